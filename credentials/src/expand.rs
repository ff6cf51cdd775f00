//! JSON-LD expansion for documents that use only pinned contexts.
//!
//! This follows JSON-LD 1.1 Processing Algorithms §4.1 (context
//! processing), §4.2 (term definitions), §5.1 (expansion), §5.2 (IRI
//! expansion) and §5.3 (value expansion). It covers the features that
//! credentials and the pinned contexts use: protected terms,
//! property-scoped and type-scoped contexts, `@vocab`, compact IRIs,
//! `@set`, `@list` and `@graph` containers and typed values.
//!
//! Each context processing step depends only on the active context and on
//! a context value inside a pinned document, so its result is computed
//! once per process and shared. That is what makes this faster than the
//! `json-ld` crate, which copies the whole active context for every
//! type-scoped context it applies.
//!
//! Anything outside the subset gives [`Unsupported`], and the caller then
//! expands the document with the `json-ld` crate instead. That covers
//! inline or unknown contexts and keywords other than `@context`, `@id`,
//! `@type`, `@value` and `@language`. It also covers relative or
//! malformed IRIs, colliding keywords and every case the specification
//! calls an error. Plain names that no context defines are dropped, as
//! the specification does, and reported by [`dropped_properties`].
//!
//! The result for accepted documents is the same as the `json-ld`
//! crate's. The tests in `credentials/tests/expansion.rs` compare the two
//! on every fixture and on many variants of each.

use crate::contexts;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// Error for a document with a feature this expansion leaves to the
/// `json-ld` crate. The string names the feature, for tests and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

type Fast<T> = Result<T, Unsupported>;

/// Deepest nesting of objects and arrays expanded here.
const MAX_DEPTH: usize = 64;

/// Error that [`expand_key`] returns for a plain name no context defines.
const UNDEFINED: Unsupported = Unsupported("undefined term");

/// Maximum number of processed contexts kept for reuse.
const CACHE_ENTRIES: usize = 4096;

/// Expands `document`, or returns the feature it uses that is left to the
/// `json-ld` crate.
pub fn expand(document: &Value) -> Fast<Value> {
    expand_with_dropped(document).map(|(expanded, _)| expanded)
}

/// Returns the properties of `document` that expansion drops because no
/// context defines them and no `@vocab` applies, in document order.
/// The signature does not cover their values.
pub fn dropped_properties(document: &Value) -> Fast<Vec<String>> {
    expand_with_dropped(document).map(|(_, dropped)| dropped)
}

fn expand_with_dropped(document: &Value) -> Fast<(Value, Vec<String>)> {
    let empty = empty_context();
    let mut dropped = Vec::new();
    let expanded = expand_element(&empty, None, document, false, 0, &mut dropped)?;
    let expanded = match expanded {
        Some(Value::Object(mut map)) if map.len() == 1 && map.contains_key("@graph") => {
            map.remove("@graph").unwrap_or(Value::Null)
        }
        Some(value) => value,
        None => Value::Null,
    };
    let expanded = match expanded {
        Value::Array(items) => Value::Array(items),
        Value::Null => Value::Array(Vec::new()),
        other => Value::Array(vec![other]),
    };
    Ok((expanded, dropped))
}

/// Term definition in an active context.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    /// IRI or keyword the term expands to. `None` is a term mapped to null,
    /// which drops the property.
    iri: Option<String>,
    prefix: bool,
    protected: bool,
    type_mapping: Option<String>,
    container: Container,
    /// Scoped context of the term, a value inside a pinned context.
    context: Option<&'static Value>,
}

impl Term {
    fn same_definition(&self, other: &Term) -> bool {
        self.iri == other.iri
            && self.prefix == other.prefix
            && self.type_mapping == other.type_mapping
            && self.container == other.container
            && self.context == other.context
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Container {
    set: bool,
    list: bool,
    graph: bool,
}

/// An active context. Each has a unique `id`, the key of the cache of
/// processed contexts.
#[derive(Debug)]
struct Context {
    id: u64,
    terms: HashMap<String, Arc<Term>>,
    vocab: Option<String>,
    previous: Option<Arc<Context>>,
}

impl Context {
    fn term(&self, name: &str) -> Option<&Term> {
        self.terms.get(name).map(|term| &**term)
    }

    fn has_protected(&self) -> bool {
        self.terms.values().any(|term| term.protected)
    }
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn empty_context() -> Arc<Context> {
    static EMPTY: OnceLock<Arc<Context>> = OnceLock::new();
    EMPTY
        .get_or_init(|| {
            Arc::new(Context {
                id: 0,
                terms: HashMap::new(),
                vocab: None,
                previous: None,
            })
        })
        .clone()
}

/// Returns the pinned documents, parsed once.
fn pinned_documents() -> &'static HashMap<&'static str, Value> {
    static DOCUMENTS: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        contexts::PINNED
            .iter()
            .filter(|context| contexts::digest(context) == context.sha256)
            .filter_map(|context| {
                let value: Value = serde_json::from_slice(context.bytes).ok()?;
                Some((context.url, value))
            })
            .collect()
    })
}

/// Returns the `@context` value of the pinned document at `url`.
fn pinned_context(url: &str) -> Fast<&'static Value> {
    pinned_documents()
        .get(url)
        .and_then(|document| document.get("@context"))
        .ok_or(Unsupported("context that is not pinned"))
}

/// A context value to process: a pinned document's context, named by URL
/// in the credential, or a scoped context inside a pinned document.
#[derive(Clone, Copy)]
enum Local<'a> {
    Urls(&'a Value),
    Scoped(&'static Value),
}

type CacheKey = (u64, usize, bool, bool);

fn cache() -> &'static RwLock<HashMap<CacheKey, Arc<Context>>> {
    static CACHE: OnceLock<RwLock<HashMap<CacheKey, Arc<Context>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Processes `local` against `active` (§4.1.2), with a cache.
fn process(
    active: &Arc<Context>,
    local: Local<'_>,
    override_protected: bool,
    propagate: bool,
) -> Fast<Arc<Context>> {
    let values: Vec<&'static Value> = match local {
        Local::Scoped(value) => vec![value],
        Local::Urls(value) => {
            let urls: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let mut values = Vec::with_capacity(urls.len());
            for url in urls {
                match url {
                    Value::String(url) => values.push(pinned_context(url)?),
                    _ => return Err(Unsupported("inline context")),
                }
            }
            values
        }
    };
    let mut result = active.clone();
    for (index, value) in values.into_iter().enumerate() {
        // Propagation applies to the context value as a whole, so only its
        // first part records the previous context.
        let propagate = propagate || index > 0;
        result = process_one(&result, value, override_protected, propagate)?;
    }
    Ok(result)
}

fn process_one(
    active: &Arc<Context>,
    local: &'static Value,
    override_protected: bool,
    propagate: bool,
) -> Fast<Arc<Context>> {
    let key = (
        active.id,
        local as *const Value as usize,
        override_protected,
        propagate,
    );
    if let Some(found) = cache().read().ok().and_then(|map| map.get(&key).cloned()) {
        return Ok(found);
    }
    let processed = Arc::new(process_uncached(
        active,
        local,
        override_protected,
        propagate,
    )?);
    if let Ok(mut map) = cache().write() {
        if map.len() < CACHE_ENTRIES {
            map.insert(key, processed.clone());
        }
    }
    Ok(processed)
}

fn process_uncached(
    active: &Arc<Context>,
    local: &'static Value,
    override_protected: bool,
    propagate: bool,
) -> Fast<Context> {
    let mut result = Context {
        id: next_id(),
        terms: active.terms.clone(),
        vocab: active.vocab.clone(),
        previous: active.previous.clone(),
    };
    if !propagate && result.previous.is_none() {
        result.previous = Some(active.clone());
    }
    let items: Vec<&'static Value> = match local {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::Null => {
                if !override_protected && result.has_protected() {
                    return Err(Unsupported("nullified protected context"));
                }
                if !propagate {
                    return Err(Unsupported("null type-scoped context"));
                }
                result.terms.clear();
                result.vocab = None;
                result.previous = None;
            }
            Value::Object(map) => define_all(&mut result, map, override_protected)?,
            _ => return Err(Unsupported("context reference inside a context")),
        }
    }
    Ok(result)
}

fn define_all(
    result: &mut Context,
    map: &'static Map<String, Value>,
    override_protected: bool,
) -> Fast<()> {
    for key in map.keys() {
        match key.as_str() {
            "@version" | "@protected" | "@vocab" => {}
            _ if key.starts_with('@') => return Err(Unsupported("context keyword")),
            _ => {}
        }
    }
    if let Some(version) = map.get("@version") {
        if version.as_f64() != Some(1.1) {
            return Err(Unsupported("@version"));
        }
    }
    if let Some(vocab) = map.get("@vocab") {
        result.vocab = match vocab {
            Value::Null => None,
            Value::String(iri) if is_absolute(iri) => Some(iri.clone()),
            _ => return Err(Unsupported("@vocab value")),
        };
    }
    let protected = match map.get("@protected") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(Unsupported("@protected value")),
    };
    let mut defined: HashMap<&str, bool> = HashMap::new();
    let mut definer = Definer {
        local: map,
        protected,
        override_protected,
        defined: &mut defined,
    };
    for term in map.keys() {
        if !term.starts_with('@') {
            definer.define(result, term)?;
        }
    }
    Ok(())
}

struct Definer<'a> {
    local: &'static Map<String, Value>,
    protected: bool,
    override_protected: bool,
    defined: &'a mut HashMap<&'static str, bool>,
}

impl Definer<'_> {
    /// Creates the definition of `term` (§4.2.2).
    fn define(&mut self, active: &mut Context, term: &'static str) -> Fast<()> {
        match self.defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => return Err(Unsupported("cyclic term definition")),
            None => {}
        }
        self.defined.insert(term, false);
        let value = &self.local[term];
        let (map, simple): (Option<&'static Map<String, Value>>, bool) = match value {
            Value::Null => (None, false),
            Value::String(_) => (None, true),
            Value::Object(map) => (Some(map), false),
            _ => return Err(Unsupported("term definition value")),
        };
        if term.is_empty() || term.starts_with('@') {
            return Err(Unsupported("keyword-like term"));
        }
        if let Some(map) = map {
            for key in map.keys() {
                match key.as_str() {
                    "@id" | "@type" | "@container" | "@context" | "@protected" => {}
                    _ => return Err(Unsupported("term definition keyword")),
                }
            }
        }
        let protected = match map.and_then(|map| map.get("@protected")) {
            None => self.protected,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(Unsupported("@protected value")),
        };

        let id = match (value, map) {
            (Value::String(id), _) => Some(Some(id.as_str())),
            (_, Some(map)) => match map.get("@id") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(Value::String(id)) => Some(Some(id.as_str())),
                Some(_) => return Err(Unsupported("@id value in a term definition")),
            },
            _ => Some(None),
        };
        let mut prefix = false;
        let iri = match id {
            Some(None) => None,
            Some(Some(id)) => {
                if id == term {
                    return Err(Unsupported("term mapped to itself"));
                }
                let iri = if is_keyword(id) {
                    if id == "@context" {
                        return Err(Unsupported("alias of @context"));
                    }
                    id.to_owned()
                } else if looks_like_keyword(id) {
                    return Err(Unsupported("keyword-like IRI"));
                } else {
                    let iri = self.expand_iri(active, id)?;
                    if !is_absolute(&iri) && !is_keyword(&iri) {
                        return Err(Unsupported("term mapped to a relative IRI"));
                    }
                    iri
                };
                if term.contains(':') || term.contains('/') {
                    self.defined.insert(term, true);
                    if self.expand_iri(active, term)? != iri {
                        return Err(Unsupported("term that is a different IRI"));
                    }
                } else if simple && ends_with_gen_delim(&iri) {
                    prefix = true;
                }
                Some(iri)
            }
            None => {
                if let Some((prefix, suffix)) = split_compact(term) {
                    if self.local.contains_key(prefix) && self.defined.get(prefix) != Some(&true) {
                        self.define(active, prefix)?;
                    }
                    match expand_prefix(active, prefix, suffix) {
                        Some(iri) => Some(iri),
                        None if is_absolute(term) => Some(term.to_owned()),
                        None => return Err(Unsupported("term that is a relative IRI")),
                    }
                } else if term.contains('/') {
                    return Err(Unsupported("term that is a relative IRI"));
                } else {
                    match &active.vocab {
                        Some(vocab) => Some(format!("{vocab}{term}")),
                        None => return Err(Unsupported("term without IRI")),
                    }
                }
            }
        };

        let type_mapping = match map.and_then(|map| map.get("@type")) {
            None => None,
            Some(Value::String(kind)) => match kind.as_str() {
                "@id" | "@vocab" | "@json" | "@none" => Some(kind.clone()),
                _ => {
                    let iri = self.expand_iri(active, kind)?;
                    if !is_absolute(&iri) {
                        return Err(Unsupported("@type in a term definition"));
                    }
                    Some(iri)
                }
            },
            Some(_) => return Err(Unsupported("@type value in a term definition")),
        };

        let mut container = Container::default();
        if let Some(value) = map.and_then(|map| map.get("@container")) {
            let names: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for name in names {
                match name.as_str() {
                    Some("@set") => container.set = true,
                    Some("@list") => container.list = true,
                    Some("@graph") => container.graph = true,
                    _ => return Err(Unsupported("@container value")),
                }
            }
            if container.list && (container.set || container.graph) {
                return Err(Unsupported("@list with another container"));
            }
        }

        let context = map.and_then(|map| map.get("@context"));

        let definition = Term {
            iri,
            prefix,
            protected,
            type_mapping,
            container,
            context,
        };
        if let Some(previous) = active.term(term) {
            if previous.protected && !self.override_protected {
                if !previous.same_definition(&definition) {
                    return Err(Unsupported("redefinition of a protected term"));
                }
                self.defined.insert(term, true);
                return Ok(());
            }
        }
        active.terms.insert(term.to_owned(), Arc::new(definition));
        self.defined.insert(term, true);
        Ok(())
    }

    /// Expands an IRI, vocabulary-relative, while a context is defined.
    /// Terms of the local context are defined first when the value needs them.
    fn expand_iri(&mut self, active: &mut Context, value: &'static str) -> Fast<String> {
        if is_keyword(value) {
            return Ok(value.to_owned());
        }
        if looks_like_keyword(value) {
            return Err(Unsupported("keyword-like IRI"));
        }
        if self.local.contains_key(value) && self.defined.get(value) != Some(&true) {
            self.define(active, value)?;
        }
        if let Some(term) = active.term(value) {
            return term
                .iri
                .clone()
                .ok_or(Unsupported("IRI of a term mapped to null"));
        }
        if let Some((prefix, suffix)) = split_compact(value) {
            if self.local.contains_key(prefix) && self.defined.get(prefix) != Some(&true) {
                self.define(active, prefix)?;
            }
            if let Some(expanded) = expand_prefix(active, prefix, suffix) {
                return Ok(expanded);
            }
            if is_absolute(value) {
                return Ok(value.to_owned());
            }
        }
        match &active.vocab {
            Some(vocab) => Ok(format!("{vocab}{value}")),
            None => Err(Unsupported("relative IRI in a context")),
        }
    }
}

/// Splits `prefix:suffix` when it may be a compact IRI.
fn split_compact(value: &str) -> Option<(&str, &str)> {
    let colon = value.find(':')?;
    if colon == 0 {
        return None;
    }
    Some((&value[..colon], &value[colon + 1..]))
}

/// Expands `prefix:suffix` through a defined prefix term, if there is one.
fn expand_prefix(active: &Context, prefix: &str, suffix: &str) -> Option<String> {
    if prefix == "_" || suffix.starts_with("//") {
        return None;
    }
    let term = active.term(prefix)?;
    match (&term.iri, term.prefix) {
        (Some(iri), true) => Some(format!("{iri}{suffix}")),
        _ => None,
    }
}

/// Expands an IRI in an active context (§5.2.2). `vocab` selects
/// vocabulary-relative expansion. Document-relative values are
/// unsupported, because no document here has a base IRI.
fn expand_iri(active: &Context, value: &str, vocab: bool) -> Fast<String> {
    let expanded = expand_iri_unchecked(active, value, vocab)?;
    if is_keyword(&expanded) || is_absolute(&expanded) || is_blank_node(&expanded) {
        Ok(expanded)
    } else {
        Err(Unsupported("value that expands to an invalid IRI"))
    }
}

fn expand_iri_unchecked(active: &Context, value: &str, vocab: bool) -> Fast<String> {
    if is_keyword(value) {
        return Ok(value.to_owned());
    }
    if looks_like_keyword(value) {
        return Err(Unsupported("keyword-like value"));
    }
    if let Some(term) = active.term(value) {
        if let Some(iri) = &term.iri {
            if is_keyword(iri) {
                return Ok(iri.clone());
            }
        }
        if vocab {
            return term
                .iri
                .clone()
                .ok_or(Unsupported("value of a term mapped to null"));
        }
    }
    if let Some((prefix, suffix)) = split_compact(value) {
        if prefix == "_" {
            return Ok(value.to_owned());
        }
        if let Some(expanded) = expand_prefix(active, prefix, suffix) {
            return Ok(expanded);
        }
        if is_absolute(value) {
            return Ok(value.to_owned());
        }
    }
    if vocab {
        if let Some(vocab) = &active.vocab {
            return Ok(format!("{vocab}{value}"));
        }
    }
    Err(Unsupported("relative IRI"))
}

/// Expands one element (§5.1.2). `Ok(None)` is a null result.
fn expand_element(
    active: &Arc<Context>,
    property: Option<&str>,
    element: &Value,
    from_map: bool,
    depth: usize,
    dropped: &mut Vec<String>,
) -> Fast<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(Unsupported("deep nesting"));
    }
    if element.is_null() {
        return Ok(None);
    }
    let property_term = property.and_then(|name| active.term(name));
    let scoped = property_term.and_then(|term| term.context);

    if !element.is_object() && !element.is_array() {
        if property.is_none() || property == Some("@graph") {
            return Ok(None);
        }
        let active = match scoped {
            Some(local) => process(active, Local::Scoped(local), true, true)?,
            None => active.clone(),
        };
        let term = property.and_then(|name| active.term(name));
        return expand_value(&active, term, element).map(Some);
    }

    if let Value::Array(items) = element {
        let list = property_term.is_some_and(|term| term.container.list);
        let mut result = Vec::with_capacity(items.len());
        for item in items {
            match expand_element(active, property, item, from_map, depth + 1, dropped)? {
                None => {}
                Some(Value::Array(expanded)) if list => {
                    result.push(list_object(expanded));
                }
                Some(Value::Array(expanded)) => result.extend(expanded),
                Some(expanded) => result.push(expanded),
            }
        }
        return Ok(Some(Value::Array(result)));
    }

    let Value::Object(element) = element else {
        return Ok(None);
    };

    let mut active = active.clone();
    if active.previous.is_some() && !from_map {
        let mut has_value = false;
        let mut only_id = element.len() == 1;
        for key in element.keys() {
            let expanded = expand_iri(&active, key, true).ok();
            match expanded.as_deref() {
                Some("@value") => has_value = true,
                Some("@id") => {}
                _ => only_id = false,
            }
        }
        if !has_value && !only_id {
            if let Some(previous) = active.previous.clone() {
                active = previous;
            }
        }
    }
    if let Some(local) = scoped {
        active = process(&active, Local::Scoped(local), true, true)?;
    }
    if let Some(local) = element.get("@context") {
        active = process(&active, Local::Urls(local), false, true)?;
    }

    // Type-scoped contexts, looked up in the context before any of them
    // applies, in lexicographic order of the keys and of the types.
    let type_scoped = active.clone();
    let mut type_keys: Vec<&String> = element
        .keys()
        .filter(|key| expand_key(&active, key).is_ok_and(|expanded| expanded == "@type"))
        .collect();
    type_keys.sort();
    for key in &type_keys {
        let mut names: Vec<&str> = match &element[key.as_str()] {
            Value::String(name) => vec![name.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => return Err(Unsupported("@type value")),
        };
        names.sort_unstable();
        for name in names {
            if let Some(local) = type_scoped.term(name).and_then(|term| term.context) {
                active = process(&active, Local::Scoped(local), false, false)?;
            }
        }
    }
    let dropped_before = dropped.len();
    let mut keys: Vec<(&String, String)> = Vec::with_capacity(element.len());
    for key in element.keys() {
        if key == "@context" {
            continue;
        }
        match expand_key(&active, key) {
            Ok(expanded) => keys.push((key, expanded)),
            Err(UNDEFINED) => dropped.push(key.clone()),
            Err(other) => return Err(other),
        }
    }

    let mut result = Map::new();
    for (key, expanded) in &keys {
        let value = &element[key.as_str()];
        if expanded.starts_with('@') {
            if result.contains_key(expanded.as_str()) {
                return Err(Unsupported("colliding keywords"));
            }
            let expanded_value = match expanded.as_str() {
                "@id" => match value {
                    Value::String(id) => {
                        let iri = expand_iri(&active, id, false)?;
                        if is_keyword(&iri) {
                            return Err(Unsupported("keyword as @id"));
                        }
                        Value::String(iri)
                    }
                    _ => return Err(Unsupported("@id that is not a string")),
                },
                "@type" => expand_types(&type_scoped, value)?,
                "@value" => match value {
                    Value::Null => Value::Null,
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => value.clone(),
                    _ => return Err(Unsupported("@value that is not a scalar")),
                },
                "@language" => match value {
                    Value::String(language) if is_language_tag(language) => value.clone(),
                    _ => return Err(Unsupported("@language value")),
                },
                _ => return Err(Unsupported("keyword")),
            };
            result.insert(expanded.clone(), expanded_value);
            continue;
        }

        let term = active.term(key);
        let container = term.map(|term| term.container).unwrap_or_default();
        if term.is_some_and(|term| term.type_mapping.as_deref() == Some("@json")) {
            return Err(Unsupported("@json value"));
        }
        let Some(expanded_value) =
            expand_element(&active, Some(key), value, false, depth + 1, dropped)?
        else {
            continue;
        };
        let expanded_value = if container.list && !is_list_object(&expanded_value) {
            list_object(into_array(expanded_value))
        } else if container.graph {
            Value::Array(
                into_array(expanded_value)
                    .into_iter()
                    .map(|item| {
                        let mut graph = Map::new();
                        graph.insert("@graph".to_owned(), Value::Array(into_array(item)));
                        Value::Object(graph)
                    })
                    .collect(),
            )
        } else {
            expanded_value
        };
        match result
            .entry(expanded.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.extend(into_array(expanded_value)),
            _ => return Err(Unsupported("property that is a keyword")),
        }
    }

    if result.contains_key("@value") {
        // The json-ld crate rejects a value object with a dropped key,
        // where the specification drops the key first.
        if dropped.len() > dropped_before {
            return Err(Unsupported("value object with an undefined key"));
        }
        for key in result.keys() {
            if !matches!(key.as_str(), "@value" | "@type" | "@language") {
                return Err(Unsupported("value object with other entries"));
            }
        }
        if result.contains_key("@type") && result.contains_key("@language") {
            return Err(Unsupported("value object with @type and @language"));
        }
        match result.get("@type") {
            None => {}
            Some(Value::Array(types)) if types.len() == 1 => {
                let kind = types[0].clone();
                if !kind.as_str().is_some_and(is_absolute) {
                    return Err(Unsupported("value object @type"));
                }
                result.insert("@type".to_owned(), kind);
            }
            Some(_) => return Err(Unsupported("value object @type")),
        }
        match result.get("@value") {
            Some(Value::Null) => return Ok(None),
            Some(Value::String(_)) => {}
            Some(_) if result.contains_key("@language") => {
                return Err(Unsupported("@language on a value that is not a string"))
            }
            _ => {}
        }
    } else if result.contains_key("@language") {
        return Err(Unsupported("@language outside a value object"));
    }

    if property.is_none() || property == Some("@graph") {
        let only_id = result.len() == 1 && result.contains_key("@id");
        if result.is_empty() || result.contains_key("@value") || only_id {
            return Ok(None);
        }
    }
    Ok(Some(Value::Object(result)))
}

/// Expands a key of a node object. Keys must be keywords, defined terms,
/// compact IRIs of defined prefixes, absolute IRIs, or plain names under
/// a `@vocab`.
fn expand_key(active: &Context, key: &str) -> Fast<String> {
    let expanded = expand_key_unchecked(active, key)?;
    if is_keyword(&expanded) || is_absolute(&expanded) {
        Ok(expanded)
    } else {
        Err(Unsupported("property that expands to an invalid IRI"))
    }
}

fn expand_key_unchecked(active: &Context, key: &str) -> Fast<String> {
    if is_keyword(key) {
        return Ok(key.to_owned());
    }
    if key.starts_with('@') {
        return Err(Unsupported("keyword-like property"));
    }
    if let Some(term) = active.term(key) {
        return term
            .iri
            .clone()
            .ok_or(Unsupported("property whose term is mapped to null"));
    }
    if let Some((prefix, suffix)) = split_compact(key) {
        if let Some(expanded) = expand_prefix(active, prefix, suffix) {
            return Ok(expanded);
        }
        if prefix != "_" && is_absolute(key) {
            return Ok(key.to_owned());
        }
        return Err(Unsupported("property that is not an IRI"));
    }
    match &active.vocab {
        Some(vocab) if !key.is_empty() && !key.contains('/') => Ok(format!("{vocab}{key}")),
        Some(_) => Err(Unsupported("property that is not a defined term")),
        // Without a vocabulary mapping, a plain name expands to itself,
        // which is not an IRI, so expansion drops the property (§5.1.2,
        // step 13.3).
        None if is_plain_name(key) => Err(UNDEFINED),
        None => Err(Unsupported("property that is not a defined term")),
    }
}

fn expand_types(type_scoped: &Context, value: &Value) -> Fast<Value> {
    let names: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut types = Vec::with_capacity(names.len());
    for name in names {
        let Value::String(name) = name else {
            return Err(Unsupported("@type that is not a string"));
        };
        let iri = expand_iri(type_scoped, name, true)?;
        if is_keyword(&iri) || !(is_absolute(&iri) || iri.starts_with("_:")) {
            return Err(Unsupported("@type that is not an IRI"));
        }
        types.push(Value::String(iri));
    }
    Ok(Value::Array(types))
}

/// Expands a scalar value (§5.3.2).
fn expand_value(active: &Context, term: Option<&Term>, value: &Value) -> Fast<Value> {
    let type_mapping = term.and_then(|term| term.type_mapping.as_deref());
    let mut result = Map::new();
    match (type_mapping, value) {
        (Some("@json"), _) => return Err(Unsupported("@json value")),
        (Some(kind @ ("@id" | "@vocab")), Value::String(iri)) => {
            let iri = expand_iri(active, iri, kind == "@vocab")?;
            if is_keyword(&iri) {
                return Err(Unsupported("keyword as an IRI value"));
            }
            result.insert("@id".to_owned(), Value::String(iri));
            return Ok(Value::Object(result));
        }
        (Some("@id" | "@vocab" | "@none") | None, _) => {}
        (Some(datatype), _) => {
            result.insert("@type".to_owned(), Value::String(datatype.to_owned()));
        }
    }
    result.insert("@value".to_owned(), value.clone());
    Ok(Value::Object(result))
}

fn list_object(items: Vec<Value>) -> Value {
    let mut list = Map::new();
    list.insert("@list".to_owned(), Value::Array(items));
    Value::Object(list)
}

fn is_list_object(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.contains_key("@list"))
}

fn into_array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

fn is_keyword(value: &str) -> bool {
    matches!(
        value,
        "@base"
            | "@container"
            | "@context"
            | "@direction"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@prefix"
            | "@propagate"
            | "@protected"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

/// Checks for `@` and one or more ASCII letters, reserved for future keywords.
fn looks_like_keyword(value: &str) -> bool {
    value
        .strip_prefix('@')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn ends_with_gen_delim(iri: &str) -> bool {
    iri.ends_with([':', '/', '?', '#', '[', ']', '@'])
}

/// Checks for an absolute IRI: a scheme, a colon, and only ASCII characters
/// an IRI may contain, with `%` only before two hex digits. This is stricter
/// than the specification, so anything unusual goes to the `json-ld` crate.
fn is_absolute(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    let scheme_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let rest = rest.as_bytes();
    let mut decoded = Vec::with_capacity(rest.len());
    let mut index = 0;
    while index < rest.len() {
        let b = rest[index];
        if b == b'%' {
            let hex = rest
                .get(index + 1..index + 3)
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            match hex {
                Some(byte) => decoded.push(byte),
                None => return false,
            }
            index += 3;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=".contains(&b)) {
            return false;
        }
        decoded.push(b);
        index += 1;
    }
    if !authority_and_fragment_ok(rest) {
        return false;
    }
    // The json-ld crate fails on percent-encoded bytes that are not UTF-8.
    // Such IRIs go to it, so that both give the same result.
    scheme_ok && std::str::from_utf8(&decoded).is_ok()
}

/// Checks the parts of an IRI after its scheme that the character check
/// cannot: one `#` at most, and an authority with one `@` at most and a
/// port of digits only.
fn authority_and_fragment_ok(rest: &[u8]) -> bool {
    if rest.iter().filter(|&&b| b == b'#').count() > 1 {
        return false;
    }
    let Some(after) = rest.strip_prefix(b"//") else {
        return true;
    };
    let end = after
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    let authority = &after[..end];
    if authority.iter().filter(|&&b| b == b'@').count() > 1 {
        return false;
    }
    let host_port = match authority.iter().position(|&b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    match host_port.iter().position(|&b| b == b':') {
        Some(colon) => host_port[colon + 1..].iter().all(u8::is_ascii_digit),
        None => true,
    }
}

/// Checks for a blank node identifier with a label of ASCII letters,
/// digits, `-`, `_` and `.`.
fn is_blank_node(value: &str) -> bool {
    value.strip_prefix("_:").is_some_and(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    })
}

/// Checks for a name of ASCII letters, digits, `_` and `-`, as terms are.
fn is_plain_name(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

fn is_language_tag(value: &str) -> bool {
    let mut parts = value.split('-');
    parts.next().is_some_and(|first| {
        (1..=8).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_lowercase())
    }) && parts.all(|part| {
        (1..=8).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}
