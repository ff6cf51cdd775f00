//! Our JSON-LD to canonical N-Quads pipeline against jsonld.js, the
//! reference JavaScript implementation, on every third-party credential.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn js_canonical(file: &Path) -> String {
    let interop = repo().join("interop");
    assert!(
        interop.join("node_modules/jsonld").exists(),
        "run `npm ci` in interop/ first (scripts/test.sh does it)"
    );
    let output = Command::new("node")
        .current_dir(&interop)
        .arg("canonize.mjs")
        .arg(file)
        .output()
        .expect("node must be installed");
    assert!(
        output.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
}

#[test]
fn canonical_form_matches_jsonld_js() {
    let mut files = Vec::new();
    json_files(
        &repo().join("fixtures/dcc-fixtures/verifiableCredentials"),
        &mut files,
    );
    files.push(repo().join("fixtures/openbadges-v3/signed.json"));
    files.push(repo().join("fixtures/w3c-vc-di-eddsa/TestVectors/unsigned.json"));
    files.sort();
    assert!(files.len() >= 30);
    for file in &files {
        let mut document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
        if let Some(map) = document.as_object_mut() {
            map.remove("proof");
        }
        let ours = credentials::rdf::canonicalize(&document).expect("canonicalize");
        assert_eq!(ours, js_canonical(file), "{}", file.display());
    }
}
