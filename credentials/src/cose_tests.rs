use super::*;
use crate::compact::tests::{fixture, now, Fixture, DID, KID, VERIFIER_URL};
use crate::compact::verification_link;
use chrono::TimeZone;
use serde_json::json;

/// A share token as the issuer makes them: 39 digits.
const SHARE_TOKEN: &str = "294011838201947302857716492003185577461";

impl Fixture {
    fn qr_form(&self) -> String {
        sign(&self.credential, &self.key).expect("QR form")
    }

    fn check(&self, digits: &str) -> Result<Checked, CompactError> {
        verify(digits, &self.resolver, &self.trusted, now(), None)
    }
}

#[test]
fn digits_round_trip_every_length() {
    assert_eq!(from_digits(""), Err(CompactError::Digits));
    for length in 1..40 {
        let bytes: Vec<u8> = (0..length)
            .map(|i| u8::try_from((i * 97 + 255) % 256).expect("byte"))
            .collect();
        let digits = to_digits(&bytes);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(from_digits(&digits), Ok(bytes.clone()), "{length} bytes");
        let ones = vec![0xff; length];
        assert_eq!(
            from_digits(&to_digits(&ones)),
            Ok(ones),
            "{length} bytes of ff"
        );
    }
}

#[test]
fn digits_have_one_spelling() {
    let cases = [
        ("1", "a length no chunk has"),
        ("1234", "a length no chunk has"),
        ("72057594037927936", "2^56 does not fit 7 bytes"),
        ("99999999999999999", "over 2^56"),
        ("256", "over one byte"),
        ("65536", "over two bytes"),
        ("12a", "not a digit"),
        ("-12", "a sign"),
        ("+12", "a sign"),
        (" 12", "a space"),
    ];
    for (digits, reason) in cases {
        assert_eq!(
            from_digits(digits),
            Err(CompactError::Digits),
            "{digits}: {reason}"
        );
    }
    assert_eq!(from_digits("255"), Ok(vec![255]));
    assert_eq!(from_digits("72057594037927935"), Ok(vec![255; 7]));
    assert_eq!(from_digits("72057594037927935255").map(|b| b.len()), Ok(8));
}

#[test]
fn signed_form_verifies_and_agrees() {
    let fixture = fixture();
    let digits = fixture.qr_form();
    let checked = fixture.check(&digits).expect("verifies");
    assert_eq!(checked.method, KID);
    let mut expected = compact::claims_for(&fixture.credential).expect("claims");
    expected.jti = None;
    assert_eq!(checked.claims, expected);
    assert_eq!(checked.claims.iss, DID);
    verify(
        &digits,
        &fixture.resolver,
        &fixture.trusted,
        now(),
        Some(&fixture.credential),
    )
    .expect("agrees with the full credential");
    // The dispatching entry point reads digits as the QR form.
    crate::compact::verify(&digits, &fixture.resolver, &fixture.trusted, now(), None)
        .expect("compact::verify reads the QR form");
}

/// The QR code of a realistic certificate fits version 12 at level M, and
/// so does one with a long Arabic name. The figures are printed for
/// `docs/compact-form.md`.
#[test]
fn realistic_link_fits_version_12() {
    let fixture = fixture();
    let long_name = "فاطمة الزهراء أيت بن علي";
    let mut long = fixture.credential.clone();
    long["credentialSubject"]["name"][0]["@value"] = json!(long_name);
    for (label, credential) in [("realistic", &fixture.credential), ("long name", &long)] {
        let digits = sign(credential, &fixture.key).expect("QR form");
        let link = verification_link(
            VERIFIER_URL,
            SHARE_TOKEN,
            Some(&digits),
            crate::qr::MAX_COMPACT_VERSION,
        );
        assert!(link.ends_with(&digits), "{label}: left out: {link}");
        assert!(
            link.starts_with("HTTPS://VERIFY.TAAWOUNYA.MA/V/"),
            "{label}: {link}"
        );
        let version = crate::qr::version(&link).expect("version");
        let modules = 17 + 4 * u32::try_from(version).expect("positive");
        println!(
            "{label}: {} bytes of COSE, {} digits, link {} characters, QR version {version} \
             at level M, {modules} modules, {:.2} mm per module at 35 mm",
            from_digits(&digits).expect("bytes").len(),
            digits.len(),
            link.len(),
            35.0 / f64::from(modules + 8),
        );
        assert!(
            version <= crate::qr::MAX_COMPACT_VERSION,
            "{label}: {version}"
        );

        let png = crate::qr::png(&link, 4).expect("png");
        let image = image::load_from_memory(&png).expect("png").to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().expect("decode qr");
        assert_eq!(content, link);
        let fragment = url::Url::parse(&content)
            .expect("url")
            .fragment()
            .map(str::to_owned);
        assert_eq!(fragment.as_deref(), Some(digits.as_str()));
        let checked = fixture.check(&digits).expect("verifies");
        assert!(checked.claims.n.iter().any(|name| name.chars().count() > 5));
    }
}

/// The parts of a QR form, to rebuild it with one change.
struct Parts {
    protected: Vec<(Cbor, Cbor)>,
    unprotected: Vec<(Cbor, Cbor)>,
    payload: Vec<(Cbor, Cbor)>,
}

impl Parts {
    fn of(fixture: &Fixture) -> Self {
        let bytes = from_digits(&fixture.qr_form()).expect("digits");
        let Cbor::Array(parts) = decode(&bytes, "test").expect("cbor") else {
            panic!("not an array")
        };
        let map = |value: &Cbor| -> Vec<(Cbor, Cbor)> {
            let Cbor::Bytes(bytes) = value else {
                panic!("not bytes")
            };
            let Cbor::Map(entries) = decode(bytes, "test").expect("cbor") else {
                panic!("not a map")
            };
            entries
        };
        Self {
            protected: map(&parts[0]),
            unprotected: Vec::new(),
            payload: map(&parts[2]),
        }
    }

    /// Signs the parts with `key`, so a rejection cannot come from the
    /// signature.
    fn sign(&self, key: &SigningKey) -> String {
        let protected = encode(&Cbor::Map(self.protected.clone())).expect("cbor");
        let payload = encode(&Cbor::Map(self.payload.clone())).expect("cbor");
        let signature = key.sign(&signing_input(&protected, &payload).expect("input"));
        let sign1 = Cbor::Array(vec![
            Cbor::Bytes(protected),
            Cbor::Map(self.unprotected.clone()),
            Cbor::Bytes(payload),
            Cbor::Bytes(signature.to_bytes().to_vec()),
        ]);
        to_digits(&encode(&sign1).expect("cbor"))
    }

    fn set_protected(mut self, label: i64, value: Cbor) -> Self {
        set(&mut self.protected, Cbor::from(label), value);
        self
    }

    fn set_claim(mut self, key: Cbor, value: Cbor) -> Self {
        set(&mut self.payload, key, value);
        self
    }

    fn remove_claim(mut self, key: &Cbor) -> Self {
        self.payload.retain(|(existing, _)| existing != key);
        self
    }
}

/// Sets `key` in `entries`, keeping deterministic order.
fn set(entries: &mut Vec<(Cbor, Cbor)>, key: Cbor, value: Cbor) {
    entries.retain(|(existing, _)| *existing != key);
    entries.push((key, value));
    entries.sort_by_key(|(key, _)| encode(key).expect("cbor"));
}

fn is_kind(error: &CompactError, kind: &str) -> bool {
    format!("{error:?}").starts_with(kind)
}

/// Each hostile variant is refused with the stated reason. Every variant
/// is signed by the issuer's own key unless the case is about the key.
#[test]
fn hostile_forms_are_refused() {
    let fixture = fixture();
    let key = &fixture.key;
    let other = SigningKey::from_bytes(&[7u8; 32]);
    let kid = || Cbor::Bytes(key_id(&key.verifying_key()).to_vec());
    let base = || Parts::of(&fixture);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg HMAC 256/256",
            base().set_protected(HEADER_ALG, Cbor::from(5)).sign(key),
            "Algorithm",
        ),
        (
            "alg ES256",
            base().set_protected(HEADER_ALG, Cbor::from(-7)).sign(key),
            "Algorithm",
        ),
        (
            "alg as text",
            base().set_protected(HEADER_ALG, text("EdDSA")).sign(key),
            "Algorithm",
        ),
        (
            "alg none (COSE has no none; 0 is reserved)",
            base().set_protected(HEADER_ALG, Cbor::from(0)).sign(key),
            "Algorithm",
        ),
        (
            "no alg",
            {
                let mut parts = base();
                parts
                    .protected
                    .retain(|(label, _)| *label != Cbor::from(HEADER_ALG));
                parts.sign(key)
            },
            "Algorithm",
        ),
        (
            "crit",
            base()
                .set_protected(2, Cbor::Array(vec![Cbor::from(99)]))
                .sign(key),
            "HeaderParameter",
        ),
        (
            "content type",
            base().set_protected(3, text("application/json")).sign(key),
            "HeaderParameter",
        ),
        (
            "x5chain (a key in the header)",
            base().set_protected(33, Cbor::Bytes(vec![0; 32])).sign(key),
            "HeaderParameter",
        ),
        (
            "a COSE_Key in the header",
            base()
                .set_protected(
                    -1,
                    Cbor::Map(vec![(Cbor::from(-2), Cbor::Bytes(vec![1; 32]))]),
                )
                .sign(key),
            "HeaderParameter",
        ),
        (
            "unprotected kid",
            {
                let mut parts = base();
                parts.unprotected = vec![(Cbor::from(HEADER_KID), kid())];
                parts.sign(key)
            },
            "HeaderParameter",
        ),
        (
            "no kid",
            {
                let mut parts = base();
                parts
                    .protected
                    .retain(|(label, _)| *label != Cbor::from(HEADER_KID));
                parts.sign(key)
            },
            "MissingKid",
        ),
        (
            "kid of 8 bytes",
            base()
                .set_protected(HEADER_KID, Cbor::Bytes(vec![0; 8]))
                .sign(key),
            "MissingKid",
        ),
        (
            "kid as text",
            base().set_protected(HEADER_KID, text("key-1")).sign(key),
            "HeaderParameter",
        ),
        (
            "signed by another key, with its own kid",
            base()
                .set_protected(
                    HEADER_KID,
                    Cbor::Bytes(key_id(&other.verifying_key()).to_vec()),
                )
                .sign(&other),
            "UnknownKey",
        ),
        (
            "signed by another key, naming the issuer's",
            base().sign(&other),
            "Signature",
        ),
        (
            "unknown claim (iss)",
            base().set_claim(Cbor::from(1), text(DID)).sign(key),
            "Claims",
        ),
        (
            "unknown text claim",
            base().set_claim(text("x"), text("y")).sign(key),
            "Claims",
        ),
        (
            "nbf as text",
            base()
                .set_claim(Cbor::from(CLAIM_NBF), text("2026-11-20"))
                .sign(key),
            "Claims",
        ),
        (
            "nbf negative",
            base()
                .set_claim(Cbor::from(CLAIM_NBF), Cbor::from(-1))
                .sign(key),
            "Claims",
        ),
        (
            "nbf as a float",
            base()
                .set_claim(Cbor::from(CLAIM_NBF), Cbor::Float(1.0))
                .sign(key),
            "Claims",
        ),
        (
            "no nbf",
            base().remove_claim(&Cbor::from(CLAIM_NBF)).sign(key),
            "Claims",
        ),
        (
            "no names",
            base().remove_claim(&text("n")).sign(key),
            "Claims",
        ),
        (
            "empty names",
            base()
                .set_claim(text("n"), Cbor::Array(Vec::new()))
                .sign(key),
            "Claims",
        ),
        (
            "a name that is not text",
            base()
                .set_claim(text("n"), Cbor::Array(vec![Cbor::from(1)]))
                .sign(key),
            "Claims",
        ),
        (
            "digest of 32 bytes",
            base()
                .set_claim(text("h"), Cbor::Bytes(vec![0; 32]))
                .sign(key),
            "Claims",
        ),
        (
            "digest as text",
            base().set_claim(text("h"), text("AAAA")).sign(key),
            "Claims",
        ),
        (
            "status of another purpose",
            base()
                .set_claim(
                    text("s"),
                    Cbor::Array(vec![Cbor::Array(vec![
                        text("x"),
                        Cbor::from(1),
                        Cbor::from(4),
                    ])]),
                )
                .sign(key),
            "Claims",
        ),
        (
            "status list named as text where a number is the spelling",
            base()
                .set_claim(
                    text("s"),
                    Cbor::Array(vec![Cbor::Array(vec![
                        text("r"),
                        text("revocation-1"),
                        Cbor::from(4),
                    ])]),
                )
                .sign(key),
            "Claims",
        ),
        (
            "negative status index",
            base()
                .set_claim(
                    text("s"),
                    Cbor::Array(vec![Cbor::Array(vec![
                        text("r"),
                        Cbor::from(1),
                        Cbor::from(-4),
                    ])]),
                )
                .sign(key),
            "Claims",
        ),
        (
            "expired",
            base()
                .set_claim(Cbor::from(CLAIM_EXP), Cbor::from(1_700_000_000))
                .sign(key),
            "Expired",
        ),
        (
            "not yet valid",
            base()
                .set_claim(Cbor::from(CLAIM_NBF), Cbor::from(4_000_000_000_i64))
                .sign(key),
            "NotYetValid",
        ),
        ("too long", "1".repeat(MAX_DIGITS + 1), "TooLong"),
        ("empty", String::new(), "Digits"),
    ];
    for (name, digits, expected) in cases {
        let error = fixture.check(&digits).expect_err(name);
        assert!(is_kind(&error, expected), "{name}: {error:?}");
    }
}

/// Encodings other than the deterministic one are refused, even with a
/// valid signature inside.
#[test]
fn only_the_deterministic_encoding_is_accepted() {
    let fixture = fixture();
    let bytes = from_digits(&fixture.qr_form()).expect("digits");
    assert_eq!(bytes[0], 0x84, "an array of four");
    let mut indefinite = vec![0x9f];
    indefinite.extend_from_slice(&bytes[1..]);
    indefinite.push(0xff);
    let mut tagged = vec![0xd2];
    tagged.extend_from_slice(&bytes);
    let mut trailing = bytes.clone();
    trailing.push(0x00);
    let mut five = bytes.clone();
    five[0] = 0x85;
    five.push(0x40);
    let mut long_length = vec![0x98, 0x04];
    long_length.extend_from_slice(&bytes[1..]);
    for (name, variant) in [
        ("indefinite-length array", indefinite),
        ("tag 18", tagged),
        ("trailing byte", trailing),
        ("five items", five),
        ("array length in two bytes", long_length),
        ("truncated", bytes[..bytes.len() - 1].to_vec()),
        ("not CBOR", vec![0xff; 40]),
    ] {
        let error = fixture.check(&to_digits(&variant)).expect_err(name);
        assert!(is_kind(&error, "Cbor"), "{name}: {error:?}");
    }

    // Unsorted and repeated keys in the payload, signed by the issuer.
    let parts = Parts::of(&fixture);
    let mut unsorted = parts.payload.clone();
    unsorted.reverse();
    let mut repeated = parts.payload.clone();
    repeated.push(repeated[repeated.len() - 1].clone());
    for (name, payload) in [("unsorted keys", unsorted), ("repeated key", repeated)] {
        let variant = Parts {
            protected: parts.protected.clone(),
            unprotected: Vec::new(),
            payload,
        };
        let error = fixture.check(&variant.sign(&fixture.key)).expect_err(name);
        assert!(is_kind(&error, "Cbor"), "{name}: {error:?}");
    }
}

#[test]
fn tampering_breaks_the_signature() {
    let fixture = fixture();
    let digits = fixture.qr_form();
    let bytes = from_digits(&digits).expect("digits");
    // Flip one bit of the Arabic name inside the payload.
    let name = "خديجة".as_bytes();
    let at = bytes
        .windows(name.len())
        .position(|window| window == name)
        .expect("name in payload");
    let mut changed = bytes.clone();
    changed[at + 1] ^= 0x01;
    let error = fixture
        .check(&to_digits(&changed))
        .expect_err("changed name");
    assert!(
        matches!(error, CompactError::Signature | CompactError::Cbor(_)),
        "{error:?}"
    );
    let mut zero = bytes.clone();
    let length = zero.len();
    zero[length - 64..].fill(0);
    assert_eq!(
        fixture.check(&to_digits(&zero)),
        Err(CompactError::Signature)
    );
}

#[test]
fn claims_must_agree_with_the_full_credential() {
    let fixture = fixture();
    let digits = fixture.qr_form();
    let other = crate::compact::tests::realistic_credential(
        &fixture.key,
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single(),
    );
    let error = verify(
        &digits,
        &fixture.resolver,
        &fixture.trusted,
        now(),
        Some(&other),
    )
    .expect_err("another credential");
    assert_eq!(error, CompactError::Disagrees("exp"));
}

#[test]
fn list_names_outside_the_academy_scheme_stay_text() {
    assert_eq!(list_value("r", "revocation-12"), Cbor::from(12));
    assert_eq!(list_value("s", "suspension-3"), Cbor::from(3));
    for name in [
        "revocation-012",
        "revocation-",
        "suspension-1",
        "list-9",
        "revocation-x",
    ] {
        assert_eq!(list_value("r", name), text(name), "{name}");
    }
}

#[test]
fn untrusted_issuer_is_unknown_key() {
    let fixture = fixture();
    let digits = fixture.qr_form();
    let error = verify(&digits, &fixture.resolver, &[], now(), None).expect_err("no issuers");
    assert!(matches!(error, CompactError::UnknownKey(_)), "{error:?}");
}
