use super::*;
use crate::did::{self, PublishedKey};
use crate::model::{self, Achievement, AchievementKind, CredentialInput, Recipient};
use chrono::TimeZone;
use ed25519_dalek::Signer as _;
use serde_json::json;
use std::collections::BTreeMap;

pub(crate) const DID: &str = "did:web:academy.taawounya.ma";
pub(crate) const KID: &str = "did:web:academy.taawounya.ma#key-1";
pub(crate) const VERIFIER_URL: &str = "https://verify.taawounya.ma";
const SHARE_TOKEN: &str = "3f9a0c1e5b7d4a2c8e6f0b1d3a5c7e9f";

pub(crate) struct Fixture {
    pub(crate) key: SigningKey,
    pub(crate) resolver: Resolver,
    pub(crate) trusted: Vec<TrustedIssuer>,
    pub(crate) credential: Value,
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("date")
}

fn text(pairs: &[(&str, &str)]) -> LocalizedText {
    LocalizedText(
        pairs
            .iter()
            .map(|(language, value)| ((*language).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

/// A path certificate as the academy issues it: Arabic and Latin names,
/// titles in four languages, two status entries, signed with
/// `eddsa-rdfc-2022`.
pub(crate) fn realistic_credential(key: &SigningKey, valid_until: Option<DateTime<Utc>>) -> Value {
    let input = CredentialInput {
        id: uuid::Uuid::from_u128(0x5d2c_8f41_0b7e_4e19_9a3c_62d1_f0e4_8b27),
        issuer_id: DID.to_owned(),
        issuer_name: text(&[
            ("ar", "أكاديمية تعاونية"),
            ("en", "TaaWounYa Academy"),
            ("fr", "Académie TaaWounYa"),
            ("zgh", "ⴰⴽⴰⴷⵉⵎⵉⵢⴰ ⵜⴰⵡⵓⵏⵢⴰ"),
        ]),
        achievement: Achievement {
            id: "https://academy.taawounya.ma/achievements/paths/path-finance".to_owned(),
            kind: AchievementKind::Path,
            code: "path-finance".to_owned(),
            name: text(&[
                ("ar", "التسيير المالي للتعاونية"),
                ("en", "Cooperative finance"),
                ("fr", "Gestion financière de la coopérative"),
                ("zgh", "ⴰⵙⵙⵏⴼⵍ ⴰⴷⵔⵉⵎⴰⵏ"),
            ]),
            description: text(&[("fr", "Comptabilité, comptes annuels, microcrédit.")]),
            criteria: text(&[("fr", "Réussir les trois modules du parcours.")]),
        },
        recipient: Recipient {
            member_id: "m-0002".to_owned(),
            salt: "c1d2e3f4".to_owned(),
            name_arabic: "خديجة أوبلا".to_owned(),
            name_latin: "Khadija Oubella".to_owned(),
        },
        valid_from: Utc
            .with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
            .single()
            .expect("date"),
        valid_until,
        score: None,
        evidence_url: None,
        supporting: Vec::new(),
        // Added below as JSON, as the issuer places them.
        status: Vec::new(),
    };
    let mut unsigned = model::open_badge(&input);
    let list = "https://academy.taawounya.ma/status";
    unsigned.insert(
        "credentialStatus".to_owned(),
        json!([
            {"id": format!("{list}/revocation-1#48213"), "type": "BitstringStatusListEntry",
             "statusPurpose": "revocation", "statusListIndex": "48213",
             "statusListCredential": format!("{list}/revocation-1")},
            {"id": format!("{list}/suspension-1#48213"), "type": "BitstringStatusListEntry",
             "statusPurpose": "suspension", "statusListIndex": "48213",
             "statusListCredential": format!("{list}/suspension-1")}
        ]),
    );
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-11-20T09:30:00Z",
        "verificationMethod": KID,
        "proofPurpose": "assertionMethod",
    });
    let options = options.as_object().cloned().unwrap_or_default();
    Value::Object(crate::proof::sign(&unsigned, &options, key).expect("sign"))
}

pub(crate) fn fixture() -> Fixture {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let mut resolver = Resolver::new();
    resolver
        .insert(did::did_document(
            DID,
            &[PublishedKey {
                fragment: "key-1",
                key: key.verifying_key(),
            }],
        ))
        .expect("insert");
    let trusted = vec![TrustedIssuer {
        id: DID.to_owned(),
        name: BTreeMap::new(),
    }];
    let valid_until = Utc.with_ymd_and_hms(2029, 11, 20, 0, 0, 0).single();
    let credential = realistic_credential(&key, valid_until);
    Fixture {
        key,
        resolver,
        trusted,
        credential,
    }
}

impl Fixture {
    fn verify(&self, compact: &str) -> Result<Checked, CompactError> {
        verify(compact, &self.resolver, &self.trusted, now(), None)
    }

    fn compact(&self) -> String {
        sign_jws(&self.credential, &self.key, KID).expect("compact form")
    }
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Builds a compact form from raw header and payload JSON, signed with
/// Ed25519 by `key`, so that a rejection cannot come from a bad signature.
fn forge(header: &Value, payload: &Value, key: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        encode(header.to_string().as_bytes()),
        encode(payload.to_string().as_bytes())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", encode(&signature.to_bytes()))
}

fn payload_of(compact: &str) -> Value {
    let segment = compact.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json")
}

#[test]
fn round_trip_returns_claims() {
    let fixture = fixture();
    let compact = fixture.compact();
    let checked = verify(
        &compact,
        &fixture.resolver,
        &fixture.trusted,
        now(),
        Some(&fixture.credential),
    )
    .expect("valid compact form");
    assert_eq!(checked.method, KID);
    assert_eq!(checked.claims.iss, DID);
    assert_eq!(
        checked.claims.jti.as_deref(),
        Some("urn:uuid:5d2c8f41-0b7e-4e19-9a3c-62d1f0e48b27")
    );
    assert_eq!(checked.claims.n, vec!["خديجة أوبلا", "Khadija Oubella"]);
    assert_eq!(checked.claims.a, "Gestion financière de la coopérative");
    assert_eq!(checked.claims.nbf, 1_795_132_800);
    assert_eq!(
        checked.claims.s,
        vec![
            StatusRef("r".into(), "revocation-1".into(), 48213),
            StatusRef("s".into(), "suspension-1".into(), 48213),
        ]
    );
    assert_eq!(checked.claims.h, credential_digest(&fixture.credential));
}

#[test]
fn header_is_alg_and_kid_only() {
    let compact = fixture().compact();
    let segment = compact.split('.').next().expect("header");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json");
    assert_eq!(header, json!({"alg": "EdDSA", "kid": KID}));
}

#[test]
fn digest_ignores_key_order_and_spacing() {
    let fixture = fixture();
    let pretty = serde_json::to_string_pretty(&fixture.credential).expect("json");
    let mut reordered: Map<String, Value> = Map::new();
    let original = fixture.credential.as_object().expect("object");
    for (name, value) in original.iter().rev() {
        reordered.insert(name.clone(), value.clone());
    }
    let reparsed: Value = serde_json::from_str(&pretty).expect("json");
    let digest = credential_digest(&fixture.credential);
    assert_eq!(credential_digest(&reparsed), digest);
    assert_eq!(credential_digest(&Value::Object(reordered)), digest);
    assert_eq!(digest.len(), 22);
}

#[test]
fn jcs_sorts_by_utf16_code_units() {
    // JCS sorts by UTF-16 code units: U+1F600 (a surrogate pair starting
    // 0xD83D) comes before U+FB33, although its UTF-8 bytes sort after.
    let value = json!({"\u{1F600}": 1, "\u{FB33}": 2, "a": [true, null, "x\n"]});
    let mut out = String::new();
    write_jcs(&value, &mut out);
    assert_eq!(
        out,
        "{\"a\":[true,null,\"x\\n\"],\"\u{1F600}\":1,\"\u{FB33}\":2}"
    );
}

/// One hostile compact form and the error it must get.
struct Case {
    name: &'static str,
    compact: String,
    expected: CompactError,
}

fn hostile_cases(fixture: &Fixture) -> Vec<Case> {
    let good = fixture.compact();
    let payload = payload_of(&good);
    let attacker = SigningKey::from_bytes(&[7u8; 32]);
    let attacker_jwk: Value =
        serde_json::from_str(&public_jwk(&attacker.verifying_key()).to_string()).expect("jwk");
    let mut cases = Vec::new();
    let mut case = |name, compact, expected| {
        cases.push(Case {
            name,
            compact,
            expected,
        })
    };

    // alg "none" in four spellings, unsigned and with a real signature.
    for spelling in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": spelling, "kid": KID});
        let unsigned = format!(
            "{}.{}.",
            encode(header.to_string().as_bytes()),
            encode(payload.to_string().as_bytes())
        );
        case(
            "alg none unsigned",
            unsigned,
            CompactError::Algorithm(spelling.into()),
        );
        case(
            "alg none signed",
            forge(&header, &payload, &fixture.key),
            CompactError::Algorithm(spelling.into()),
        );
    }
    // HS256 with the issuer's public key as the HMAC secret: the classic
    // key-confusion attack.
    let hs256 = {
        let mut header = JwsHeader::new();
        header.set_algorithm("HS256");
        header.set_key_id(KID);
        let signer = josekit::jws::HS256
            .signer_from_bytes(fixture.key.verifying_key().as_bytes())
            .expect("hmac signer");
        josekit::jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer)
            .expect("hs256")
    };
    case(
        "HS256 keyed with public key",
        hs256,
        CompactError::Algorithm("HS256".into()),
    );
    // ECDSA signatures of all zeros (r = s = 0), which Java 15 to 18
    // accepted as valid for any message (CVE-2022-21449).
    for (alg, length) in [("ES256", 64), ("ES384", 96)] {
        let header = json!({"alg": alg, "kid": KID});
        case(
            "all-zero ECDSA signature",
            format!(
                "{}.{}.{}",
                encode(header.to_string().as_bytes()),
                encode(payload.to_string().as_bytes()),
                encode(&vec![0u8; length])
            ),
            CompactError::Algorithm(alg.into()),
        );
    }
    for alg in ["eddsa", "ES256", "RS256", "Ed25519"] {
        let header = json!({"alg": alg, "kid": KID});
        case(
            "other algorithm",
            forge(&header, &payload, &fixture.key),
            CompactError::Algorithm(alg.into()),
        );
    }
    case(
        "alg not a string",
        forge(
            &json!({"alg": ["EdDSA"], "kid": KID}),
            &payload,
            &fixture.key,
        ),
        CompactError::Algorithm("[\"EdDSA\"]".into()),
    );
    case(
        "alg missing",
        forge(&json!({"kid": KID}), &payload, &fixture.key),
        CompactError::Algorithm(String::new()),
    );

    // Keys or key locations supplied in the header, signed by the
    // attacker's key that they name.
    let header_keys = [
        ("jwk", attacker_jwk.clone()),
        ("jku", json!("http://127.0.0.1:9/keys.json")),
        ("x5u", json!("http://127.0.0.1:9/cert.pem")),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
    ];
    for (parameter, value) in header_keys {
        let mut header = json!({"alg": "EdDSA", "kid": KID});
        header[parameter] = value;
        case(
            "header-supplied key",
            forge(&header, &payload, &attacker),
            CompactError::HeaderParameter(parameter.into()),
        );
    }
    case(
        "crit",
        forge(
            &json!({"alg": "EdDSA", "kid": KID, "crit": ["exp"]}),
            &payload,
            &fixture.key,
        ),
        CompactError::HeaderParameter("crit".into()),
    );
    case(
        "b64 false",
        forge(
            &json!({"alg": "EdDSA", "kid": KID, "b64": false, "crit": ["b64"]}),
            &payload,
            &fixture.key,
        ),
        CompactError::HeaderParameter("b64".into()),
    );

    // Keys the issuer does not have, or that belong to someone else.
    case(
        "kid not in issuer document",
        forge(
            &json!({"alg": "EdDSA", "kid": format!("{DID}#key-2")}),
            &payload,
            &fixture.key,
        ),
        CompactError::UnknownKey(format!("{DID}#key-2")),
    );
    case(
        "kid of another DID",
        forge(
            &json!({"alg": "EdDSA", "kid": "did:web:evil.example#key-1"}),
            &payload,
            &attacker,
        ),
        CompactError::UnknownKey("did:web:evil.example#key-1".into()),
    );
    let attacker_did_key = crate::keys::did_key(&attacker.verifying_key());
    let attacker_kid = format!(
        "{attacker_did_key}#{}",
        crate::keys::public_multibase(&attacker.verifying_key())
    );
    case(
        "kid is attacker did:key",
        forge(
            &json!({"alg": "EdDSA", "kid": attacker_kid}),
            &payload,
            &attacker,
        ),
        CompactError::UnknownKey(attacker_kid.clone()),
    );
    case(
        "kid missing",
        forge(&json!({"alg": "EdDSA"}), &payload, &fixture.key),
        CompactError::MissingKid,
    );
    case(
        "right kid, wrong key",
        forge(&json!({"alg": "EdDSA", "kid": KID}), &payload, &attacker),
        CompactError::Signature,
    );
    let mut other_issuer = payload.clone();
    other_issuer["iss"] = json!("did:web:evil.example");
    case(
        "untrusted issuer",
        forge(
            &json!({"alg": "EdDSA", "kid": KID}),
            &other_issuer,
            &attacker,
        ),
        CompactError::UntrustedIssuer("did:web:evil.example".into()),
    );

    // Segment counts and encodings.
    let parts: Vec<&str> = good.split('.').collect();
    case(
        "one segment",
        parts[0].to_owned(),
        CompactError::Segments(1),
    );
    case(
        "two segments",
        parts[..2].join("."),
        CompactError::Segments(2),
    );
    case(
        "four segments",
        format!("{good}.{}", parts[2]),
        CompactError::Segments(4),
    );
    case(
        "five segments (JWE)",
        format!("{good}.{}.{}", parts[1], parts[2]),
        CompactError::Segments(5),
    );
    case("empty", String::new(), CompactError::Segments(1));
    case(
        "padded header",
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        CompactError::Base64("header"),
    );
    case(
        "standard alphabet in signature",
        format!("{}.{}.+{}", parts[0], parts[1], &parts[2][1..]),
        CompactError::Base64("signature"),
    );
    case(
        "space in payload",
        format!("{}.{} .{}", parts[0], parts[1], parts[2]),
        CompactError::Base64("payload"),
    );
    case(
        "header not JSON",
        format!("{}.{}.{}", encode(b"alg=EdDSA"), parts[1], parts[2]),
        CompactError::Json("header"),
    );
    case(
        "duplicate alg in header",
        format!(
            "{}.{}.{}",
            encode(br#"{"alg":"none","alg":"EdDSA","kid":"x"}"#),
            parts[1],
            parts[2]
        ),
        CompactError::Json("header"),
    );
    case(
        "too long",
        "a".repeat(MAX_LENGTH + 1),
        CompactError::TooLong,
    );

    // Payloads changed after signing, or signed with claims we do not know.
    let mut renamed = payload.clone();
    renamed["n"] = json!(["خديجة أوبلا", "Khadija Oubelle"]);
    case(
        "payload changed after signing",
        format!(
            "{}.{}.{}",
            parts[0],
            encode(renamed.to_string().as_bytes()),
            parts[2]
        ),
        CompactError::Signature,
    );
    // Claims this form does not define, signed with the academy's key.
    for (claim, value) in [
        ("admin", json!(true)),
        ("sub", json!("did:example:someone-else")),
        ("aud", json!("https://bank.example")),
    ] {
        let mut extra = payload.clone();
        extra[claim] = value;
        let extra_compact = forge(&json!({"alg": "EdDSA", "kid": KID}), &extra, &fixture.key);
        match fixture.verify(&extra_compact) {
            Err(CompactError::Claims(_)) => {}
            other => panic!("unknown claim {claim}: expected a claims error, got {other:?}"),
        }
    }
    cases
}

#[test]
fn hostile_compact_forms_are_rejected() {
    let fixture = fixture();
    for case in hostile_cases(&fixture) {
        assert_eq!(
            fixture.verify(&case.compact),
            Err(case.expected.clone()),
            "case {:?}: {}",
            case.name,
            case.compact
        );
    }
}

#[test]
fn period_is_checked() {
    let fixture = fixture();
    let compact = fixture.compact();
    let expired_at = Utc
        .with_ymd_and_hms(2029, 11, 21, 0, 0, 0)
        .single()
        .expect("date");
    assert_eq!(
        verify(
            &compact,
            &fixture.resolver,
            &fixture.trusted,
            expired_at,
            None
        ),
        Err(CompactError::Expired("2029-11-20T00:00:00Z".into()))
    );
    let too_early = Utc
        .with_ymd_and_hms(2026, 11, 19, 0, 0, 0)
        .single()
        .expect("date");
    assert_eq!(
        verify(
            &compact,
            &fixture.resolver,
            &fixture.trusted,
            too_early,
            None
        ),
        Err(CompactError::NotYetValid("2026-11-20T00:00:00Z".into()))
    );
}

#[test]
fn claims_must_agree_with_full_credential() {
    let fixture = fixture();
    let compact = fixture.compact();
    let check = |full: &Value| {
        verify(
            &compact,
            &fixture.resolver,
            &fixture.trusted,
            now(),
            Some(full),
        )
    };

    let mut renamed = fixture.credential.clone();
    renamed["credentialSubject"]["name"][1]["@value"] = json!("Khadija Oubelle");
    assert_eq!(check(&renamed), Err(CompactError::Disagrees("n")));

    let mut other_id = fixture.credential.clone();
    other_id["id"] = json!("urn:uuid:00000000-0000-4000-8000-000000000000");
    assert_eq!(check(&other_id), Err(CompactError::Disagrees("jti")));

    let mut longer = fixture.credential.clone();
    longer["validUntil"] = json!("2030-11-20T00:00:00Z");
    assert_eq!(check(&longer), Err(CompactError::Disagrees("exp")));

    let mut earlier = fixture.credential.clone();
    earlier["validFrom"] = json!("2020-01-01T00:00:00Z");
    assert_eq!(check(&earlier), Err(CompactError::Disagrees("nbf")));

    let mut other_issuer = fixture.credential.clone();
    match &mut other_issuer["issuer"] {
        Value::Object(issuer) => {
            issuer.insert("id".to_owned(), json!("did:web:other.example"));
        }
        issuer => *issuer = json!("did:web:other.example"),
    }
    assert_eq!(check(&other_issuer), Err(CompactError::Disagrees("iss")));

    let mut moved = fixture.credential.clone();
    moved["credentialStatus"][0]["statusListIndex"] = json!("7");
    assert_eq!(check(&moved), Err(CompactError::Disagrees("s")));

    // Only the proof differs: the digest must still notice.
    let mut reproved = fixture.credential.clone();
    reproved["proof"]["created"] = json!("2026-11-21T09:30:00Z");
    assert_eq!(check(&reproved), Err(CompactError::Disagrees("h")));
}

#[test]
fn credential_without_dates_cannot_be_summarised() {
    let fixture = fixture();
    let mut undated = fixture.credential.clone();
    undated.as_object_mut().expect("object").remove("validFrom");
    assert!(matches!(
        sign_jws(&undated, &fixture.key, KID),
        Err(CompactError::Credential(_))
    ));
}

/// The QR code of a realistic certificate: its version at level M and the
/// size of one module when printed 35 mm wide, as `docs/compact-form.md`
/// records them. The link does not fit the default limit, version 12.
#[test]
fn realistic_link_version_measured() {
    let fixture = fixture();
    let compact = fixture.compact();
    let link = verification_link(VERIFIER_URL, SHARE_TOKEN, Some(&compact), 40);
    assert!(
        link.ends_with(&compact),
        "the compact form was left out: {link}"
    );
    let version = crate::qr::version(&link).expect("version");
    let modules = 17 + 4 * u32::try_from(version).expect("positive");
    let module_mm = 35.0 / f64::from(modules + 8);
    let segments: Vec<usize> = compact.split('.').map(str::len).collect();
    println!(
        "link {} bytes (segments {segments:?}), QR version {version} at level M, \
         {modules} modules, {module_mm:.2} mm per module at 35 mm",
        link.len(),
    );
    assert!(
        version > crate::qr::MAX_COMPACT_VERSION,
        "version {version}"
    );
    assert!(version <= DEMO_QR_VERSION, "version {version}");
    assert_eq!(
        verification_link(
            VERIFIER_URL,
            SHARE_TOKEN,
            Some(&compact),
            crate::qr::MAX_COMPACT_VERSION
        ),
        format!("{VERIFIER_URL}/v/{SHARE_TOKEN}")
    );

    let png = crate::qr::png(&link, 4).expect("png");
    let image = image::load_from_memory(&png)
        .expect("decode png")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("decode qr");
    assert_eq!(content, link);
}

/// The limit the demo and the browser tests set with `QR_MAX_VERSION`.
const DEMO_QR_VERSION: i16 = 25;

#[test]
fn link_falls_back_when_too_large() {
    let fixture = fixture();
    let compact = fixture.compact();
    let plain = format!("{VERIFIER_URL}/v/{SHARE_TOKEN}");
    let version = crate::qr::version(&format!("{plain}#{compact}")).expect("version");
    assert_eq!(
        verification_link(VERIFIER_URL, SHARE_TOKEN, Some(&compact), version - 1),
        plain
    );
    assert_eq!(
        verification_link(VERIFIER_URL, SHARE_TOKEN, Some(&compact), version),
        format!("{plain}#{compact}")
    );
    assert_eq!(
        verification_link(VERIFIER_URL, SHARE_TOKEN, None, 40),
        plain
    );
    // A compact form no QR code can hold at level M.
    let huge = "a".repeat(3000);
    assert_eq!(
        verification_link(VERIFIER_URL, SHARE_TOKEN, Some(&huge), 40),
        plain
    );
}
