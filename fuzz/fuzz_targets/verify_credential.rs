//! Credential JSON as `POST /credentials/verify` receives it: the body is
//! read with the strict JSON parser the API uses, then checked by
//! `Verifier::verify_credential` at a fixed instant, with the same document
//! standing in for every status list it names. A document without
//! `verifiableCredential` is checked as the credential itself, so plain
//! credentials serve as seeds.
//!
//! `credentials::rdf::expand` catches the panics of the json-ld crates on
//! IRIs whose percent-encoded bytes are not UTF-8, so the target lets
//! panics raised inside pct-str unwind (see `allow_caught_panics`).

#![no_main]

use credentials::verify::{FetchedList, StatusLists};
use libfuzzer_sys::fuzz_target;
use taawounya_fuzz::{academy, allow_caught_panics, now};

fuzz_target!(init: allow_caught_panics(&["pct-str"]), |data: &[u8]| {
    if data.len() > verifier::api::MAX_BODY_BYTES {
        return;
    }
    let Ok(body) = credentials::json::parse_strict(data) else {
        return;
    };
    let credential = match body.get("verifiableCredential") {
        Some(credential) => credential.clone(),
        None => body,
    };

    let verifier = &academy().verifier;
    let mut report = verifier.verify_credential(&credential, now());
    if report.status_pending() {
        let fetched = FetchedList {
            document: credential.clone(),
            fetched_at: now(),
        };
        let lists: StatusLists = report
            .status_lists_to_fetch()
            .into_iter()
            .map(|url| (url, Ok(fetched.clone())))
            .collect();
        verifier.check_status(&mut report, &lists, now());
    }
    let _ = serde_json::to_value(&report);

    // The online check of a scanned link summarises the full credential.
    let _ = credentials::compact::claims_for(&credential);
    let _ = credentials::compact::credential_digest(&credential);
});
