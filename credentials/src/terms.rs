//! Rules on how a credential writes its properties, beyond what expansion
//! drops.
//!
//! The signature covers the RDF form of a credential, but the verifier's
//! checks and pages read its JSON keys. A property written in another
//! form gives the same RDF, so the signature stays valid while the checks
//! miss the property: a revoked or expired credential could hide its
//! `credentialStatus` or `validUntil` that way. These rules reject every
//! such form:
//!
//! - a key that is an IRI or a compact IRI instead of a term;
//! - the keywords `@nest`, `@reverse`, `@included` and `@graph`, which
//!   move properties or nodes to other places, and keys of the form of a
//!   keyword that are not keywords, which expansion ignores;
//! - an inline or embedded context that maps a term to null, makes a term
//!   another name for a keyword, or maps a term to an IRI that a pinned
//!   context already gives to one of its terms.

use crate::contexts::PINNED;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// JSON-LD 1.1 keywords. Other keys of the form `@` and letters are
/// reserved, and expansion ignores them.
const KEYWORDS: [&str; 23] = [
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

/// Keywords that move properties or nodes away from the place where the
/// checks read them.
const MOVING_KEYWORDS: [&str; 4] = ["@nest", "@reverse", "@included", "@graph"];

/// Returns a sentence naming the first rule `document` breaks, or `None`.
pub fn problem(document: &Value) -> Option<String> {
    match document {
        Value::Array(items) => items.iter().find_map(problem),
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            if key == "@context" {
                return context_problem(value);
            }
            key_problem(key).or_else(|| problem(value))
        }),
        _ => None,
    }
}

fn key_problem(key: &str) -> Option<String> {
    if MOVING_KEYWORDS.contains(&key) {
        return Some(format!(
            "the credential uses {key}, which moves properties to where the checks do not read them"
        ));
    }
    if is_keyword_form(key) && !KEYWORDS.contains(&key) {
        return Some(format!(
            "the credential contains the key {key}, which no context defines"
        ));
    }
    if key.contains(':') {
        return Some(format!(
            "the credential names the property {key} by its IRI instead of by a term of its contexts"
        ));
    }
    None
}

/// Returns whether `key` is `@` followed by one or more ASCII letters.
fn is_keyword_form(key: &str) -> bool {
    key.len() > 1 && key.starts_with('@') && key[1..].bytes().all(|b| b.is_ascii_alphabetic())
}

/// Checks the inline context objects in a `@context` value. Context URLs
/// are checked against the pinned list elsewhere.
fn context_problem(context: &Value) -> Option<String> {
    inline_problem(context, &HashMap::new())
}

fn inline_problem(context: &Value, outer: &Prefixes) -> Option<String> {
    let definitions = match context {
        Value::Array(items) => return items.iter().find_map(|item| inline_problem(item, outer)),
        Value::Object(definitions) => definitions,
        _ => return None,
    };
    let prefixes = prefixes(definitions, outer);
    definitions.iter().find_map(|(term, definition)| {
        if term.starts_with('@') {
            return None;
        }
        if let Some(scoped) = definition.get("@context") {
            if let Some(found) = inline_problem(scoped, &prefixes) {
                return Some(found);
            }
        }
        targets(definition)
            .into_iter()
            .find_map(|target| target_problem(term, target, &prefixes))
    })
}

fn target_problem(term: &str, target: &Value, prefixes: &Prefixes) -> Option<String> {
    let iri = match target {
        Value::Null => {
            return Some(format!(
            "an inline context maps the term {term} to nothing, so the signature does not cover it"
        ))
        }
        Value::String(iri) => iri,
        _ => return None,
    };
    if iri.starts_with('@') {
        return Some(format!(
            "an inline context makes the term {term} another name for the keyword {iri}"
        ));
    }
    let resolved = resolve(iri, prefixes);
    if pinned_iris().contains(&resolved) {
        return Some(format!(
            "an inline context makes the term {term} another name for {resolved}, \
             which its pinned contexts already define"
        ));
    }
    None
}

/// Terms that map to an absolute IRI, usable as prefixes of compact IRIs.
type Prefixes = HashMap<String, String>;

/// Adds the prefixes of `definitions` to those of the enclosing contexts.
fn prefixes(definitions: &Map<String, Value>, outer: &Prefixes) -> Prefixes {
    let mut prefixes = outer.clone();
    for (term, definition) in definitions {
        let iri = match definition {
            Value::String(iri) => Some(iri.as_str()),
            Value::Object(fields) => fields.get("@id").and_then(Value::as_str),
            _ => None,
        };
        if let Some(iri) = iri.filter(|iri| iri.contains("://")) {
            prefixes.insert(term.clone(), iri.to_owned());
        }
    }
    prefixes
}

/// Returns the values a term definition maps its term to: the definition
/// itself when it is not an object, else its `@id` and `@reverse`.
fn targets(definition: &Value) -> Vec<&Value> {
    match definition {
        Value::Object(fields) => ["@id", "@reverse"]
            .iter()
            .filter_map(|keyword| fields.get(*keyword))
            .collect(),
        other => vec![other],
    }
}

/// Expands a compact IRI whose prefix is one of `prefixes`.
fn resolve(iri: &str, prefixes: &Prefixes) -> String {
    match iri.split_once(':') {
        Some((prefix, suffix)) if !suffix.starts_with("//") => prefixes
            .get(prefix)
            .map_or_else(|| iri.to_owned(), |base| format!("{base}{suffix}")),
        _ => iri.to_owned(),
    }
}

/// Returns the IRIs that the pinned contexts map their terms to, including
/// the terms of their scoped contexts.
fn pinned_iris() -> &'static HashSet<String> {
    static IRIS: OnceLock<HashSet<String>> = OnceLock::new();
    IRIS.get_or_init(|| {
        let mut iris = HashSet::new();
        for pinned in PINNED {
            if let Ok(document) = serde_json::from_slice::<Value>(pinned.bytes) {
                if let Some(context) = document.get("@context") {
                    collect_iris(context, &HashMap::new(), &mut iris);
                }
            }
        }
        iris
    })
}

fn collect_iris(context: &Value, outer: &Prefixes, iris: &mut HashSet<String>) {
    let definitions = match context {
        Value::Array(items) => {
            for item in items {
                collect_iris(item, outer, iris);
            }
            return;
        }
        Value::Object(definitions) => definitions,
        _ => return,
    };
    let prefixes = prefixes(definitions, outer);
    for (term, definition) in definitions {
        if term.starts_with('@') {
            continue;
        }
        if let Some(scoped) = definition.get("@context") {
            collect_iris(scoped, &prefixes, iris);
        }
        for target in targets(definition).into_iter().filter_map(Value::as_str) {
            if !target.starts_with('@') {
                iris.insert(resolve(target, &prefixes));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_iris_include_status_and_dates() {
        let iris = pinned_iris();
        for iri in [
            "https://www.w3.org/2018/credentials#credentialStatus",
            "https://www.w3.org/2018/credentials#validUntil",
            "https://www.w3.org/2018/credentials#validFrom",
            "https://www.w3.org/2018/credentials#expirationDate",
            "https://www.w3.org/2018/credentials#credentialSubject",
            "https://schema.org/name",
        ] {
            assert!(iris.contains(iri), "{iri}");
        }
    }
}
