//! JSON-LD documents expanded twice: by `credentials::expand`, which
//! handles documents that use only pinned contexts, and by the json-ld
//! crate. Whenever the first accepts a document, both must give the same
//! canonical N-Quads, or the same error from the conversion to RDF.
//!
//! `credentials::rdf::expand_reference` catches the panics of the json-ld
//! crates on IRIs whose percent-encoded bytes are not UTF-8, so the target
//! lets panics raised inside pct-str unwind (see `allow_caught_panics`).

#![no_main]

use credentials::rdf;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use taawounya_fuzz::allow_caught_panics;

fn canonical(expanded: Result<Value, rdf::RdfError>) -> Result<String, String> {
    let expanded = expanded.map_err(|error| error.to_string())?;
    let quads = rdf::to_rdf(&expanded).map_err(|error| error.to_string())?;
    rdf::canonical_nquads(&quads).map_err(|error| error.to_string())
}

fuzz_target!(init: allow_caught_panics(&["pct-str"]), |data: &[u8]| {
    if data.len() > verifier::api::MAX_BODY_BYTES {
        return;
    }
    let Ok(document) = credentials::json::parse_strict(data) else {
        return;
    };
    let Ok(fast) = credentials::expand::expand(&document) else {
        return;
    };
    let ours = canonical(Ok(fast));
    let reference = canonical(rdf::expand_reference(&document));
    if let Err(error) = &reference {
        assert!(
            error.contains("canonicalization refused"),
            "accepted by credentials::expand, rejected by the json-ld crate: {error}"
        );
    }
    assert_eq!(ours, reference, "the two expansions differ");
});
