//! JSON-LD to canonical N-Quads.
//!
//! Expansion is done by the `json-ld` crate that `ssi` ships, with the
//! pinned context loader. The conversion of the expanded document to RDF
//! follows JSON-LD 1.1 Processing Algorithms §7.2 (node map generation) and
//! §8.1-8.4 (deserialize JSON-LD to RDF). It is done here because
//! json-ld-core 0.21 differs from the specification and from jsonld.js on
//! typed literals. Here a boolean whose term declares a datatype keeps that
//! datatype, and a non-integral number becomes a canonical `xsd:double`
//! lexical form such as `3.5E0`. Canonicalization is in [`crate::canon`].

use crate::contexts::PinnedLoader;
use serde_json::{Map, Value};
use ssi::json_ld::iref::IriBuf;
use ssi::json_ld::json_ld::context_processing::{Options as ProcessingOptions, Process};
use ssi::json_ld::json_ld::expansion::{
    Error as ExpansionError, Expand, Options as ExpansionOptions, Policy,
};
use ssi::json_ld::json_ld::syntax::{context::Context as LocalContext, Parse, TryFromJson};
use ssi::json_ld::json_ld::BlankIdBuf;
use ssi::json_ld::syntax::IntoJsonWithContext;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// Upper bound on blank nodes in one document. Canonicalization cost grows
/// with the number of blank nodes that share a first-degree hash, so a
/// document built of many indistinguishable blank nodes is rejected before
/// canonicalization starts. Credentials contain a few dozen at most.
pub const MAX_BLANK_NODES: usize = 256;

/// Upper bound on quads in one document.
pub const MAX_QUADS: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum RdfError {
    #[error("JSON-LD expansion failed: {0}")]
    Expansion(String),
    #[error("no context defines the property {0}")]
    UndefinedProperty(String),
    #[error("document has more than {MAX_BLANK_NODES} blank nodes; canonicalization refused")]
    TooManyBlankNodes,
    #[error("document has more than {MAX_QUADS} statements; canonicalization refused")]
    TooManyQuads,
    #[error("document has too many indistinguishable blank nodes; canonicalization refused")]
    TooMuchWork,
}

/// Expands a JSON-LD document using only the pinned contexts.
///
/// Documents that use only the features of [`crate::expand`] are expanded
/// there; the others by the `json-ld` crate.
pub fn expand(document: &Value) -> Result<Value, RdfError> {
    match crate::expand::expand(document) {
        Ok(expanded) => Ok(expanded),
        Err(_) => expand_reference(document),
    }
}

/// Expands a JSON-LD document with the `json-ld` crate only, the way
/// [`expand`] does for documents that [`crate::expand`] leaves to it.
///
/// The top-level `@context` is processed once per distinct value and kept
/// in [`active_context`]'s cache; the rest of the document is expanded
/// from that active context. This gives the same result as expanding the
/// whole document, because a top-level context is processed against the
/// empty initial context either way.
///
/// The expansion runs on a thread of its own with an
/// [`EXPANSION_STACK_BYTES`] stack, because it recurses deeply.
pub fn expand_reference(document: &Value) -> Result<Value, RdfError> {
    expand_on_thread(document, Policy::default())
}

/// Returns the first property of `document` that expansion with the
/// `json-ld` crate drops because no context defines it and no `@vocab`
/// applies, or `None` when there is none. This is the `terms` check for
/// the documents that [`crate::expand::dropped_properties`] leaves to the
/// crate, such as those with inline contexts. The crate drops terms mapped
/// to null and keys of the form of a keyword without an error, whatever
/// the policy: [`crate::terms`] rejects those.
pub fn undefined_property(document: &Value) -> Result<Option<String>, RdfError> {
    let strict = Policy {
        allow_undefined: false,
        ..Policy::default()
    };
    match expand_on_thread(document, strict) {
        Ok(_) => Ok(None),
        Err(RdfError::UndefinedProperty(name)) => Ok(Some(name)),
        Err(error) => Err(error),
    }
}

fn expand_on_thread(document: &Value, policy: Policy) -> Result<Value, RdfError> {
    std::thread::scope(|scope| {
        let expansion = std::thread::Builder::new()
            .name("json-ld-expansion".to_owned())
            .stack_size(EXPANSION_STACK_BYTES)
            .spawn_scoped(scope, || expand_document(document, policy))
            .map_err(|error| {
                RdfError::Expansion(format!("the expansion thread could not start: {error}"))
            })?;
        // json-ld 0.21 panics, through pct-str 2.0, when it hashes an IRI
        // whose percent-encoded bytes are not UTF-8, such as
        // `urn:uuid:1%da07`. The panic ends the thread, not the process.
        expansion.join().unwrap_or_else(|_| {
            Err(RdfError::Expansion(
                "the JSON-LD processor failed on the document, for example on an IRI \
                 whose percent-encoded bytes are not UTF-8"
                    .to_owned(),
            ))
        })
    })
}

/// Stack of the thread that runs the `json-ld` crate's expansion, in
/// bytes. The crate recurses through three async functions for each level
/// of nested node objects. In a debug build, 16 levels overflowed the
/// default 2 MiB stack of Rust threads and ended the process, and 120
/// levels ran in 64 MiB. Pages of the stack that are never touched are
/// never allocated.
pub const EXPANSION_STACK_BYTES: usize = 64 * 1024 * 1024;

fn expand_document(document: &Value, policy: Policy) -> Result<Value, RdfError> {
    let mut body = document.clone();
    let context = match &mut body {
        Value::Object(map) => map.remove("@context"),
        _ => None,
    };
    let active = match &context {
        Some(context) => active_context(context)?,
        None => Arc::new(ActiveContext::default()),
    };
    let text = serde_json::to_string(&body).map_err(|e| RdfError::Expansion(e.to_string()))?;
    let (json, _) = ssi::json_ld::syntax::Value::parse_str(&text)
        .map_err(|e| RdfError::Expansion(e.to_string()))?;
    let expanded = complete(json.expand_full(
        &mut (),
        (*active).clone(),
        None,
        &PinnedLoader,
        ExpansionOptions {
            policy,
            ..ExpansionOptions::default()
        },
        (),
    ))
    .ok_or_else(|| RdfError::Expansion("expansion did not complete".to_owned()))?
    .map_err(|error| match error {
        ExpansionError::KeyExpansionFailed(name) if !policy.allow_undefined => {
            RdfError::UndefinedProperty(name)
        }
        other => RdfError::Expansion(other.to_string()),
    })?;
    let items: Vec<String> = expanded
        .into_iter()
        .map(|object| object.into_json_with(&()).to_string())
        .collect();
    let array = format!("[{}]", items.join(","));
    serde_json::from_str(&array).map_err(|e| RdfError::Expansion(e.to_string()))
}

type ActiveContext = ssi::json_ld::json_ld::Context<IriBuf, BlankIdBuf>;

/// Processed top-level contexts, by their canonical JSON text.
static CONTEXT_CACHE: OnceLock<RwLock<HashMap<String, Arc<ActiveContext>>>> = OnceLock::new();

/// Most contexts kept in the cache. That is enough for every combination of
/// pinned contexts that real credentials use, and small enough that
/// documents with ever new inline contexts cannot grow memory without bound.
const CONTEXT_CACHE_ENTRIES: usize = 256;

/// Largest context, as JSON text, that is kept in the cache.
const CONTEXT_CACHE_MAX_TEXT: usize = 16 * 1024;

/// Processes a top-level `@context` value against the empty context.
fn active_context(context: &Value) -> Result<Arc<ActiveContext>, RdfError> {
    let key = canonical_json(context);
    let cache = CONTEXT_CACHE.get_or_init(Default::default);
    if let Some(found) = cache.read().ok().and_then(|map| map.get(&key).cloned()) {
        return Ok(found);
    }

    let (json, _) = ssi::json_ld::syntax::Value::parse_str(&key)
        .map_err(|e| RdfError::Expansion(e.to_string()))?;
    let local =
        LocalContext::try_from_json(json).map_err(|e| RdfError::Expansion(e.to_string()))?;
    let processed = complete(local.process_full(
        &mut (),
        &ActiveContext::default(),
        &PinnedLoader,
        None,
        ProcessingOptions::default(),
        (),
    ))
    .ok_or_else(|| RdfError::Expansion("context processing did not complete".to_owned()))?
    .map_err(|e| RdfError::Expansion(e.to_string()))?;
    let active = Arc::new(processed.processed);

    if key.len() <= CONTEXT_CACHE_MAX_TEXT {
        if let Ok(mut map) = cache.write() {
            if map.len() < CONTEXT_CACHE_ENTRIES {
                map.insert(key, active.clone());
            }
        }
    }
    Ok(active)
}

/// Runs a future that never waits on I/O to completion on this thread.
///
/// The `json-ld` crate's expansion is async because loaders may fetch, but
/// the pinned loader answers at once, so expansion is ready on the first
/// poll. A future still pending after 1,000 polls gives `None`. The future
/// is not `Send`, so running it here keeps every caller synchronous and
/// free to run on any thread.
fn complete<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000 {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
    }
    None
}

/// Expands a JSON-LD document and returns its canonical N-Quads.
pub fn canonicalize(document: &Value) -> Result<String, RdfError> {
    let expanded = expand(document)?;
    let quads = to_rdf(&expanded)?;
    canonical_nquads(&quads)
}

/// An RDF term in lexical form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Term {
    Iri(String),
    Blank(String),
    Literal {
        value: String,
        datatype: String,
        language: Option<String>,
    },
}

/// A statement; `graph` is `None` for the default graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quad {
    pub subject: Term,
    pub predicate: Term,
    pub object: Term,
    pub graph: Option<Term>,
}

type NodeMap = BTreeMap<String, BTreeMap<String, Map<String, Value>>>;

/// Issues fresh blank node labels and relabels the ones found in the input.
#[derive(Default)]
struct BlankIssuer {
    counter: usize,
    relabelled: BTreeMap<String, String>,
}

impl BlankIssuer {
    fn issue(&mut self, existing: Option<&str>) -> String {
        if let Some(existing) = existing {
            if let Some(label) = self.relabelled.get(existing) {
                return label.clone();
            }
        }
        let label = format!("_:b{}", self.counter);
        self.counter += 1;
        if let Some(existing) = existing {
            self.relabelled.insert(existing.to_owned(), label.clone());
        }
        label
    }
}

/// Converts an expanded JSON-LD document to RDF statements.
pub fn to_rdf(expanded: &Value) -> Result<Vec<Quad>, RdfError> {
    let mut node_map = NodeMap::new();
    node_map.insert("@default".to_owned(), BTreeMap::new());
    let mut issuer = BlankIssuer::default();
    let mut walker = NodeMapWalker {
        node_map: &mut node_map,
        issuer: &mut issuer,
    };
    walker.visit(expanded, "@default", None, None, None);
    if issuer.counter > MAX_BLANK_NODES {
        return Err(RdfError::TooManyBlankNodes);
    }

    let mut quads = Vec::new();
    for (graph_name, graph) in &node_map {
        let graph_term = match graph_name.as_str() {
            "@default" => None,
            name if is_blank(name) => Some(Term::Blank(name.to_owned())),
            name if is_absolute_iri(name) => Some(Term::Iri(name.to_owned())),
            _ => continue,
        };
        for (subject, node) in graph {
            let Some(subject_term) = node_term(subject) else {
                continue;
            };
            for (property, values) in node {
                let items = values.as_array().map(Vec::as_slice).unwrap_or_default();
                if property == "@type" {
                    for item in items {
                        if let Some(object) = item.as_str().and_then(node_term) {
                            quads.push(Quad {
                                subject: subject_term.clone(),
                                predicate: Term::Iri(format!("{RDF}type")),
                                object,
                                graph: graph_term.clone(),
                            });
                        }
                    }
                    continue;
                }
                if property.starts_with('@') || !is_absolute_iri(property) {
                    continue;
                }
                for item in items {
                    let mut list_quads = Vec::new();
                    if let Some(object) = object_to_rdf(item, &mut list_quads, &mut issuer) {
                        quads.push(Quad {
                            subject: subject_term.clone(),
                            predicate: Term::Iri(property.clone()),
                            object,
                            graph: graph_term.clone(),
                        });
                    }
                    for (subject, predicate, object) in list_quads {
                        quads.push(Quad {
                            subject,
                            predicate,
                            object,
                            graph: graph_term.clone(),
                        });
                    }
                }
                if quads.len() > MAX_QUADS {
                    return Err(RdfError::TooManyQuads);
                }
            }
        }
    }
    if issuer.counter > MAX_BLANK_NODES {
        return Err(RdfError::TooManyBlankNodes);
    }
    Ok(quads)
}

struct NodeMapWalker<'a> {
    node_map: &'a mut NodeMap,
    issuer: &'a mut BlankIssuer,
}

impl NodeMapWalker<'_> {
    /// JSON-LD 1.1 Processing Algorithms §7.2, Node Map Generation.
    fn visit(
        &mut self,
        element: &Value,
        active_graph: &str,
        active_subject: Option<&str>,
        active_property: Option<&str>,
        mut list: Option<&mut Vec<Value>>,
    ) {
        if let Value::Array(items) = element {
            for item in items {
                self.visit(
                    item,
                    active_graph,
                    active_subject,
                    active_property,
                    list.as_deref_mut(),
                );
            }
            return;
        }
        let Value::Object(element) = element else {
            return;
        };
        if self.issuer.counter > MAX_BLANK_NODES {
            return;
        }

        if element.contains_key("@value") {
            let value = Value::Object(element.clone());
            match list {
                Some(list) => list.push(value),
                None => self.add_unique(active_graph, active_subject, active_property, value),
            }
            return;
        }

        if let Some(items) = element.get("@list") {
            let mut result = Vec::new();
            self.visit(
                items,
                active_graph,
                active_subject,
                active_property,
                Some(&mut result),
            );
            let mut object = Map::new();
            object.insert("@list".to_owned(), Value::Array(result));
            match list {
                Some(list) => list.push(Value::Object(object)),
                None => self.append(
                    active_graph,
                    active_subject,
                    active_property,
                    Value::Object(object),
                ),
            }
            return;
        }

        let id = match element.get("@id").and_then(Value::as_str) {
            Some(id) if is_blank(id) => self.issuer.issue(Some(id)),
            Some(id) => id.to_owned(),
            None => self.issuer.issue(None),
        };
        self.node(active_graph, &id);

        if let Some(property) = active_property {
            let reference = serde_json::json!({ "@id": id });
            match list {
                Some(list) => list.push(reference),
                None => self.add_unique(active_graph, active_subject, Some(property), reference),
            }
        }

        if let Some(types) = element.get("@type") {
            let types: Vec<Value> = as_items(types)
                .iter()
                .filter_map(Value::as_str)
                .map(|ty| {
                    if is_blank(ty) {
                        Value::String(self.issuer.issue(Some(ty)))
                    } else {
                        Value::String(ty.to_owned())
                    }
                })
                .collect();
            for ty in types {
                self.add_unique(active_graph, Some(&id), Some("@type"), ty);
            }
        }

        if let Some(Value::Object(reverse)) = element.get("@reverse") {
            for (property, values) in reverse {
                for value in as_items(values) {
                    // The referenced node gets `property` pointing back at `id`.
                    let mut value = value.clone();
                    if let Value::Object(map) = &mut value {
                        let entry = map
                            .entry(property.clone())
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(array) = entry {
                            array.push(serde_json::json!({ "@id": id }));
                        }
                    }
                    self.visit(&value, active_graph, None, None, None);
                }
            }
        }

        if let Some(graph) = element.get("@graph") {
            self.node_map.entry(id.clone()).or_default();
            self.visit(graph, &id, None, None, None);
        }

        if let Some(included) = element.get("@included") {
            self.visit(included, active_graph, None, None, None);
        }

        for (property, value) in element {
            if property.starts_with('@') {
                continue;
            }
            let property = if is_blank(property) {
                self.issuer.issue(Some(property))
            } else {
                property.clone()
            };
            let node = self.node(active_graph, &id);
            node.entry(property.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            self.visit(value, active_graph, Some(&id), Some(&property), None);
        }
    }

    fn node(&mut self, graph: &str, id: &str) -> &mut Map<String, Value> {
        self.node_map
            .entry(graph.to_owned())
            .or_default()
            .entry(id.to_owned())
            .or_insert_with(|| {
                let mut node = Map::new();
                node.insert("@id".to_owned(), Value::String(id.to_owned()));
                node
            })
    }

    fn values(
        &mut self,
        graph: &str,
        subject: Option<&str>,
        property: Option<&str>,
    ) -> Option<&mut Vec<Value>> {
        let (subject, property) = (subject?, property?);
        let node = self.node(graph, subject);
        let entry = node
            .entry(property.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        entry.as_array_mut()
    }

    fn add_unique(
        &mut self,
        graph: &str,
        subject: Option<&str>,
        property: Option<&str>,
        value: Value,
    ) {
        if let Some(values) = self.values(graph, subject, property) {
            if !values.contains(&value) {
                values.push(value);
            }
        }
    }

    fn append(&mut self, graph: &str, subject: Option<&str>, property: Option<&str>, value: Value) {
        if let Some(values) = self.values(graph, subject, property) {
            values.push(value);
        }
    }
}

fn as_items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// JSON-LD 1.1 Processing Algorithms §8.2, Object to RDF Conversion.
fn object_to_rdf(
    item: &Value,
    list_quads: &mut Vec<(Term, Term, Term)>,
    issuer: &mut BlankIssuer,
) -> Option<Term> {
    let item = item.as_object()?;
    if let Some(list) = item.get("@list") {
        return Some(list_to_rdf(as_items(list), list_quads, issuer));
    }
    if !item.contains_key("@value") {
        return item.get("@id").and_then(Value::as_str).and_then(node_term);
    }

    let value = &item["@value"];
    let datatype = item.get("@type").and_then(Value::as_str);
    if let Some(datatype) = datatype {
        if datatype != "@json" && !is_absolute_iri(datatype) {
            return None;
        }
    }
    let language = item.get("@language").and_then(Value::as_str);
    if let Some(language) = language {
        if !is_well_formed_language(language) {
            return None;
        }
    }

    let (lexical, datatype) = if datatype == Some("@json") {
        (canonical_json(value), format!("{RDF}JSON"))
    } else {
        match value {
            Value::Bool(flag) => (flag.to_string(), datatype.unwrap_or(XSD_BOOLEAN).to_owned()),
            Value::Number(number) => {
                let float = number.as_f64()?;
                let integral = float.fract() == 0.0 && float.abs() < 1e21;
                if !integral || datatype == Some(XSD_DOUBLE) {
                    (
                        canonical_double(float),
                        datatype.unwrap_or(XSD_DOUBLE).to_owned(),
                    )
                } else {
                    (
                        format!("{}", float as i128),
                        datatype.unwrap_or(XSD_INTEGER).to_owned(),
                    )
                }
            }
            Value::String(text) => (
                text.clone(),
                match (datatype, language) {
                    (Some(datatype), _) => datatype.to_owned(),
                    (None, Some(_)) => format!("{RDF}langString"),
                    (None, None) => XSD_STRING.to_owned(),
                },
            ),
            _ => return None,
        }
    };
    Some(Term::Literal {
        value: lexical,
        // jsonld.js lowercases language tags (BCP 47 tags are
        // case-insensitive); doing the same keeps signatures comparable.
        language: language
            .filter(|_| datatype.ends_with("langString"))
            .map(str::to_ascii_lowercase),
        datatype,
    })
}

/// JSON-LD 1.1 Processing Algorithms §8.4, List to RDF Conversion.
fn list_to_rdf(
    items: &[Value],
    list_quads: &mut Vec<(Term, Term, Term)>,
    issuer: &mut BlankIssuer,
) -> Term {
    if items.is_empty() {
        return Term::Iri(format!("{RDF}nil"));
    }
    let nodes: Vec<Term> = items
        .iter()
        .map(|_| Term::Blank(issuer.issue(None)))
        .collect();
    for (index, item) in items.iter().enumerate() {
        let node = nodes[index].clone();
        let mut nested = Vec::new();
        if let Some(object) = object_to_rdf(item, &mut nested, issuer) {
            list_quads.push((node.clone(), Term::Iri(format!("{RDF}first")), object));
        }
        list_quads.extend(nested);
        let rest = nodes
            .get(index + 1)
            .cloned()
            .unwrap_or_else(|| Term::Iri(format!("{RDF}nil")));
        list_quads.push((node, Term::Iri(format!("{RDF}rest")), rest));
    }
    nodes[0].clone()
}

/// Formats a double the way JSON-LD requires (and jsonld.js produces):
/// one digit before the point, trailing zeros removed, `E` exponent.
fn canonical_double(value: f64) -> String {
    let formatted = format!("{value:.15e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let mantissa = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            let fraction = if fraction.is_empty() { "0" } else { fraction };
            format!("{whole}.{fraction}")
        }
        None => format!("{mantissa}.0"),
    };
    format!("{mantissa}E{exponent}")
}

/// Serializes JSON with sorted keys and no whitespace, as the JSON
/// Canonicalization Scheme (RFC 8785) does for the values credentials use.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            let body: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::String(key.clone()), canonical_json(value))
                })
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

fn node_term(id: &str) -> Option<Term> {
    if is_blank(id) {
        Some(Term::Blank(id.to_owned()))
    } else if is_absolute_iri(id) {
        Some(Term::Iri(id.to_owned()))
    } else {
        None
    }
}

fn is_blank(id: &str) -> bool {
    id.starts_with("_:")
}

/// An absolute IRI: a scheme, a colon, and no characters IRIs forbid.
pub fn is_absolute_iri(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !value.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        })
}

fn is_well_formed_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Canonicalizes statements with RDFC-1.0 and returns sorted N-Quads.
pub fn canonical_nquads(quads: &[Quad]) -> Result<String, RdfError> {
    crate::canon::canonicalize(quads).map_err(|_| RdfError::TooMuchWork)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_matches_jsonld_js() {
        assert_eq!(canonical_double(3.5), "3.5E0");
        assert_eq!(canonical_double(1.0), "1.0E0");
        assert_eq!(canonical_double(0.00015), "1.5E-4");
        assert_eq!(canonical_double(-2.25e30), "-2.25E30");
    }

    #[test]
    fn typed_boolean_keeps_declared_datatype() {
        let expanded = serde_json::json!([{
            "@id": "urn:x",
            "https://example.org/hashed": [{
                "@value": true,
                "@type": "https://www.w3.org/2001/XMLSchema#boolean"
            }]
        }]);
        let quads = to_rdf(&expanded).expect("to_rdf");
        assert_eq!(quads.len(), 1);
        assert_eq!(
            quads[0].object,
            Term::Literal {
                value: "true".into(),
                datatype: "https://www.w3.org/2001/XMLSchema#boolean".into(),
                language: None
            }
        );
    }

    #[test]
    fn typed_float_uses_double_form() {
        let expanded = serde_json::json!([{
            "@id": "urn:x",
            "https://example.org/credits": [{
                "@value": 3.5,
                "@type": "https://www.w3.org/2001/XMLSchema#float"
            }]
        }]);
        let quads = to_rdf(&expanded).expect("to_rdf");
        assert!(matches!(&quads[0].object, Term::Literal { value, .. } if value == "3.5E0"));
    }

    #[test]
    fn blank_node_clique_is_refused() {
        let nodes: Vec<Value> = (0..400)
            .map(|i| serde_json::json!({"@id": format!("_:n{i}"), "https://example.org/p": [{"@id": format!("_:n{}", (i + 1) % 400)}]}))
            .collect();
        assert!(matches!(
            to_rdf(&Value::Array(nodes)),
            Err(RdfError::TooManyBlankNodes)
        ));
    }
}
