//! Signing and verification throughput on one core, next to Digital
//! Bazaar's JavaScript implementation measured in the same run: a typical
//! Open Badges credential, its QR form, and third-party credentials.
//!
//! Run with `cargo run --release -p credentials --example bench [seconds]`
//! after `npm ci` in `interop/`.

use chrono::Utc;
use credentials::model::{self, Achievement, AchievementKind, CredentialInput, Recipient};
use credentials::{did, keys, proof, LocalizedText, Resolver, TrustedIssuer, Verifier};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

fn text(ar: &str, fr: &str, zgh: &str, en: &str) -> LocalizedText {
    LocalizedText(BTreeMap::from([
        ("ar".to_owned(), ar.to_owned()),
        ("fr".to_owned(), fr.to_owned()),
        ("zgh".to_owned(), zgh.to_owned()),
        ("en".to_owned(), en.to_owned()),
    ]))
}

/// A module credential as the issuer produces it.
fn typical(issuer: &str) -> Map<String, Value> {
    model::open_badge(&CredentialInput {
        id: uuid::Uuid::new_v4(),
        issuer_id: issuer.to_owned(),
        issuer_name: text(
            "أكاديمية تعاونيا",
            "Académie TaaWounYa",
            "ⵜⴰⴽⴰⴷⵉⵎⵉⵜ ⵏ ⵜⴰⵡⵓⵏⵢⴰ",
            "TaaWounYa Academy",
        ),
        achievement: Achievement {
            id: "https://academy.example/achievements/modules/food-hygiene".to_owned(),
            kind: AchievementKind::Module,
            code: "food-hygiene".to_owned(),
            name: text(
                "النظافة الغذائية",
                "Hygiène alimentaire",
                "ⵜⴰⵣⴷⴰⵢⵜ ⵏ ⵜⵉⵔⵎⵜ",
                "Food hygiene",
            ),
            description: text(
                "قواعد النظافة في تحضير المنتجات الغذائية.",
                "Les règles d'hygiène pour préparer les produits alimentaires.",
                "ⵉⵍⵓⴳⴰⵏ ⵏ ⵜⴰⵣⴷⴰⵢⵜ.",
                "Hygiene rules for preparing food products.",
            ),
            criteria: text(
                "اجتاز الاختبار النهائي بنسبة 70٪ على الأقل.",
                "A réussi le quiz final avec au moins 70 %.",
                "ⵉⵣⵔⵉ ⴰⴽⵢⴰⴷ ⴰⵏⴳⴳⴰⵔⵓ.",
                "Passed the final quiz with at least 70%.",
            ),
        },
        recipient: Recipient {
            member_id: "m-0001".to_owned(),
            salt: "6f1e0c0a4d2b9e8f7a6b5c4d3e2f1a0b".to_owned(),
            name_arabic: "فاطمة أيت باها".to_owned(),
            name_latin: "Fatima Ait Baha".to_owned(),
        },
        valid_from: Utc::now(),
        valid_until: None,
        score: Some(88),
        evidence_url: None,
        supporting: Vec::new(),
        status: Vec::new(),
    })
}

struct Rate {
    per_second: f64,
    mean_ms: f64,
}

fn measure(seconds: f64, mut work: impl FnMut()) -> Rate {
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_millis(300) {
        work();
    }
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        work();
        count += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Rate {
        per_second: count as f64 / elapsed,
        mean_ms: elapsed * 1000.0 / count as f64,
    }
}

fn main() -> anyhow::Result<()> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let key = keys::generate();
    let issuer = did::did_web("academy.example");
    let document = did::did_document(
        &issuer,
        &[did::PublishedKey {
            fragment: "key-1",
            key: key.verifying_key(),
        }],
    );
    let mut resolver = Resolver::new();
    resolver.insert(document.clone())?;
    let verifier = Verifier::new(
        resolver,
        vec![TrustedIssuer {
            id: issuer.clone(),
            name: BTreeMap::new(),
        }],
    );

    let unsigned = typical(&issuer);
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": credentials::datetime::format(Utc::now()),
        "verificationMethod": format!("{issuer}#key-1"),
        "proofPurpose": "assertionMethod",
    });
    let options = options.as_object().cloned().unwrap_or_default();
    let signed = Value::Object(proof::sign(&unsigned, &options, &key)?);
    let now = Utc::now();
    anyhow::ensure!(
        verifier.verify_credential(&signed, now).verified,
        "the benchmark credential does not verify"
    );

    let sign = measure(seconds, || {
        let _ = proof::sign(&unsigned, &options, &key);
    });
    let verify = measure(seconds, || {
        let _ = verifier.verify_credential(&signed, now);
    });

    // One canonicalization split into its steps, to show where the time goes.
    let unsigned_value = Value::Object(unsigned.clone());
    let expand = measure(seconds / 3.0, || {
        let _ = credentials::rdf::expand(&unsigned_value);
    });
    let expanded = credentials::rdf::expand(&unsigned_value)?;
    let to_rdf = measure(seconds / 3.0, || {
        let _ = credentials::rdf::to_rdf(&expanded);
    });
    let quads = credentials::rdf::to_rdf(&expanded)?;
    let canonicalize = measure(seconds / 3.0, || {
        let _ = credentials::rdf::canonical_nquads(&quads);
    });

    let dir = std::env::temp_dir().join(format!("taawounya-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("credential.json"), signed.to_string())?;
    std::fs::write(
        dir.join("controllers.json"),
        Value::Array(vec![document.clone()]).to_string(),
    )?;
    let js = run_js(
        &dir.join("credential.json"),
        Some(&dir.join("controllers.json")),
        seconds,
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    let js_rate = |key: &str| js[key].as_f64().unwrap_or(f64::NAN);

    // The QR form of the same credential, checked offline against the
    // trusted issuer's key.
    let mut qr_resolver = Resolver::new();
    qr_resolver.insert(document)?;
    let trusted = vec![TrustedIssuer {
        id: issuer.clone(),
        name: BTreeMap::new(),
    }];
    let qr = credentials::cose::sign(&signed, &key)?;
    anyhow::ensure!(
        credentials::compact::verify(&qr, &qr_resolver, &trusted, now, None).is_ok(),
        "the QR form of the benchmark credential does not verify"
    );
    let verify_qr = measure(seconds, || {
        let _ = credentials::compact::verify(&qr, &qr_resolver, &trusted, now, None);
    });

    println!(
        "typical Open Badges credential, {} bytes signed, one core, {seconds} s per measurement",
        signed.to_string().len()
    );
    println!(
        "{:<10} {:>14} {:>12} {:>16} {:>12} {:>8}",
        "operation", "ours (ops/s)", "ours (ms)", "javascript (ops/s)", "js (ms)", "ratio"
    );
    for (name, ours, js_per_second, js_ms) in [
        (
            "sign",
            &sign,
            js_rate("sign_per_second"),
            js_rate("sign_ms_mean"),
        ),
        (
            "verify",
            &verify,
            js_rate("verify_per_second"),
            js_rate("verify_ms_mean"),
        ),
        (
            "verify QR",
            &verify_qr,
            js_rate("verify_per_second"),
            js_rate("verify_ms_mean"),
        ),
    ] {
        println!(
            "{:<10} {:>14.0} {:>12.3} {:>16.0} {:>12.3} {:>7.1}x",
            name,
            ours.per_second,
            ours.mean_ms,
            js_per_second,
            js_ms,
            ours.per_second / js_per_second
        );
    }
    println!(
        "(verify QR: the {}-digit QR form, next to JavaScript verifying the full credential)",
        qr.len()
    );
    println!();
    println!("one canonicalization of the credential, by step (ms):");
    println!(
        "  JSON-LD expansion {:.3}, conversion to RDF {:.3}, RDFC-1.0 {:.3}",
        expand.mean_ms, to_rdf.mean_ms, canonicalize.mean_ms
    );

    println!();
    println!("third-party credentials (did:key), verification on one core");
    println!(
        "{:<56} {:>8} {:>12} {:>10} {:>10} {:>8}",
        "fixture", "bytes", "ours (ops/s)", "ours (ms)", "js (ops/s)", "ratio"
    );
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let did_key = Verifier::new(Resolver::new(), Vec::new());
    for name in THIRD_PARTY {
        let path = fixtures.join(name);
        let credential: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let report = did_key.verify_credential(&credential, now);
        anyhow::ensure!(
            report.checks.iter().any(|check| check == "proof"),
            "the proof of {name} does not verify here"
        );
        let ours = measure(seconds, || {
            let _ = did_key.verify_credential(&credential, now);
        });
        let js = run_js(&path, None, seconds)?;
        let js_per_second = js["verify_per_second"].as_f64().unwrap_or(f64::NAN);
        let short = name.rsplit('/').next().unwrap_or(name);
        println!(
            "{:<56} {:>8} {:>12.0} {:>10.3} {:>10.0} {:>7.1}x",
            short,
            credential.to_string().len(),
            ours.per_second,
            ours.mean_ms,
            js_per_second,
            ours.per_second / js_per_second
        );
    }
    Ok(())
}

/// Third-party credentials under `fixtures/`, signed with `did:key`
/// identifiers and without status entries or expiry, so that both
/// verifiers run every check offline.
const THIRD_PARTY: &[&str] = &[
    "dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-basicOBv3.json",
    "dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/oidf-noStatus-notExpired-complexIssuer.json",
    "dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-alignments.json",
];

/// Runs `interop/bench.mjs` on a credential file and returns its JSON line.
fn run_js(
    credential: &std::path::Path,
    controllers: Option<&std::path::Path>,
    seconds: f64,
) -> anyhow::Result<Value> {
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop");
    let mut command = Command::new("node");
    command
        .current_dir(&interop)
        .arg("bench.mjs")
        .arg("--credential")
        .arg(credential)
        .arg("--seconds")
        .arg(seconds.to_string());
    if let Some(controllers) = controllers {
        command.arg("--controllers").arg(controllers);
    }
    let output = command.output()?;
    anyhow::ensure!(
        output.status.success(),
        "node bench.mjs failed on {}: {}",
        credential.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}
