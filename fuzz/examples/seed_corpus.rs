//! Writes the seed corpus of every fuzz target under `corpus/<target>/`,
//! from the repository's fixtures and the academy credential of the fuzz
//! crate. Run from `fuzz/`: `cargo run --example seed_corpus`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ciborium::Value as Cbor;
use credentials::{compact, cose, qr, status};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use taawounya_fuzz::{academy, KID};

/// A share token of the form the issuer gives: 39 decimal digits.
const SHARE_TOKEN: &str = "284197530618274950316284759130628475913";

/// Rows in the shapes of the issuer's import tests: good rows, bad dates,
/// unknown ids, a score out of range, a script URL, a short row, a
/// full-width digit and quoted fields.
const CSV_ROWS: &str = "\u{feff}member_id,module_id,completed_on,score,evidence_url
m-0002,fin-bookkeeping,2026-11-20,90,
m-0002,fin-annual-accounts,2026-13-01,,
m-9999,fin-bookkeeping,2026-11-20,,
m-0002,no-such-module,2026-11-20,,
m-0002,fin-finance-microcredit,2026-11-20,120,
m-0002,fin-finance-microcredit,2026-11-20,,javascript:alert(1)
m-0002,fin-finance-microcredit,2099-01-01,,
m-0002,fin-finance-microcredit
m-000\u{ff12},fin-finance-microcredit,2026-11-20,,
\"m-0003\",\"gov-law-112-12\",2026-11-21,75,https://lms.example.org/e/1
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = fuzz_dir.join("../fixtures");
    let corpus = fuzz_dir.join("corpus");
    let academy = academy();

    let mut documents = Vec::new();
    collect_json(&fixtures, &mut documents)?;
    documents.sort();
    let mut credentials: Vec<Vec<u8>> = Vec::new();
    for path in &documents {
        credentials.push(std::fs::read(path)?);
    }
    credentials.push(serde_json::to_vec_pretty(&academy.credential)?);
    credentials.push(serde_json::to_vec(
        &json!({"verifiableCredential": academy.credential, "options": {}}),
    )?);
    write_all(&corpus.join("verify_credential"), &credentials)?;
    write_all(&corpus.join("expansion"), &credentials)?;

    let signed = compact::sign_jws(&academy.credential, &academy.key, KID)?;
    let digits = cose::sign(&academy.credential, &academy.key)?;
    let mut compacts: Vec<Vec<u8>> = Vec::new();
    for mode in [0u8, 1] {
        compacts.push([&[mode], signed.as_bytes()].concat());
        compacts.push([&[mode], digits.as_bytes()].concat());
    }
    let segments: Vec<&str> = signed.split('.').collect();
    let header = URL_SAFE_NO_PAD.decode(segments[0])?;
    let payload = URL_SAFE_NO_PAD.decode(segments[1])?;
    for mode in [2u8, 3] {
        compacts.push([&[mode][..], &header, b"\n", &payload].concat());
    }
    // The COSE parts as the target takes them: the protected header's
    // length in one byte, the protected header, then the payload.
    let sign1: Cbor = ciborium::from_reader(cose::from_digits(&digits)?.as_slice())?;
    let Cbor::Array(parts) = sign1 else {
        return Err("the QR form is not a COSE_Sign1 array".into());
    };
    let (Some(Cbor::Bytes(protected)), Some(Cbor::Bytes(payload))) = (parts.first(), parts.get(2))
    else {
        return Err("the QR form has no protected header or payload".into());
    };
    let length = u8::try_from(protected.len())?;
    for mode in [4u8, 5] {
        compacts.push([&[mode, length][..], protected, payload].concat());
    }
    write_all(&corpus.join("compact"), &compacts)?;

    let mut lists: Vec<Vec<u8>> = Vec::new();
    let mut academy_list = status::Bitstring::from_bytes(vec![0; 16 * 1024]);
    academy_list.set(48213, true)?;
    let mut encoded = vec![academy_list.encode()];
    let mut list_files = Vec::new();
    for dir in [
        "dcc-fixtures/statusLists/didkey-ed25519Signature2020",
        "dcc-fixtures/verifier-core-status",
    ] {
        for entry in std::fs::read_dir(fixtures.join(dir))? {
            list_files.push(entry?.path());
        }
    }
    list_files.sort();
    for path in &list_files {
        let document: Value = serde_json::from_slice(&std::fs::read(path)?)?;
        if let Some(list) = document["credentialSubject"]["encodedList"].as_str() {
            encoded.push(list.to_owned());
        }
    }
    for text in &encoded {
        let mut seed = 48213u64.to_le_bytes().to_vec();
        seed.extend_from_slice(&u32::try_from(status::MIN_ENTRIES)?.to_le_bytes());
        seed.extend_from_slice(text.as_bytes());
        lists.push(seed);
    }
    write_all(&corpus.join("status_list"), &lists)?;

    let rows: Vec<&str> = CSV_ROWS.lines().collect();
    let csv_seeds = vec![
        CSV_ROWS.as_bytes().to_vec(),
        format!("{}\n{}\n", rows[0], rows[1]).into_bytes(),
        format!("{}\r\n{}\r\n{}", rows[0], rows[1], rows[10]).into_bytes(),
        b"module_id,member_id,completed_on,score,evidence_url\nfin-bookkeeping,m-0002,2026-11-20,,\n"
            .to_vec(),
    ];
    write_all(&corpus.join("import_csv"), &csv_seeds)?;

    let plain = format!("https://verify.taawounya.ma/v/{SHARE_TOKEN}");
    let with_compact = format!("{plain}#{signed}");
    let mut photos = vec![
        qr::png(&plain, 2)?,
        qr::png(&plain, 4)?,
        qr::png(&with_compact, 1)?,
        jpeg_of(&qr::png(&plain, 3)?)?,
        plain.into_bytes(),
    ];
    photos.push(with_compact.into_bytes());
    write_all(&corpus.join("scan_photo"), &photos)?;
    Ok(())
}

fn collect_json(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, found)?;
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            found.push(path);
        }
    }
    Ok(())
}

fn jpeg_of(png: &[u8]) -> Result<Vec<u8>, image::ImageError> {
    let image = image::load_from_memory(png)?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Jpeg)?;
    Ok(bytes.into_inner())
}

fn write_all(dir: &Path, seeds: &[Vec<u8>]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (number, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{number:03}")), seed)?;
    }
    println!("{}: {} seeds", dir.display(), seeds.len());
    Ok(())
}
