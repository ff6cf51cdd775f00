//! RDF Dataset Canonicalization (W3C RDFC-1.0), with a bound on the work.
//!
//! Written here rather than taken from `ssi::rdf::urdna2015` (ssi-rdf
//! 0.1), which labels tied blank nodes differently from rdf-canonize, the
//! implementation behind jsonld.js: a presentation holding two credentials
//! of one member got a signature other verifiers reject. Permutations are
//! generated in rdf-canonize's order (sorted, then Steinhaus-Johnson-Trotter)
//! and, as there, the first-degree hashing pass runs once (RDFC-1.0 §4.4.3).
//! Blank nodes that are indistinguishable make the N-degree step
//! exponential, so every call and permutation counts against
//! [`MAX_WORK`], and a dataset that exceeds it is rejected.

use crate::rdf::{Quad, Term};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Calls of the N-degree hash plus permutations tried. Credentials need a
/// few dozen; the bound keeps a hostile dataset to a fraction of a second.
pub const MAX_WORK: usize = 20_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("canonicalization needs more than {MAX_WORK} steps; the document has too many indistinguishable blank nodes")]
pub struct TooMuchWork;

#[derive(Clone, Debug)]
struct Issuer {
    prefix: &'static str,
    issued: Vec<(String, String)>,
    index: HashMap<String, String>,
}

impl Issuer {
    fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            issued: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn get(&self, existing: &str) -> Option<&String> {
        self.index.get(existing)
    }

    fn issue(&mut self, existing: &str) -> String {
        if let Some(id) = self.index.get(existing) {
            return id.clone();
        }
        let id = format!("{}{}", self.prefix, self.issued.len());
        self.issued.push((existing.to_owned(), id.clone()));
        self.index.insert(existing.to_owned(), id.clone());
        id
    }
}

struct State<'a> {
    quads: &'a [Quad],
    blank_to_quads: HashMap<String, Vec<usize>>,
    first_degree: HashMap<String, String>,
    canonical: Issuer,
    work: usize,
}

fn sha256_hex(data: &str) -> String {
    hex::encode(Sha256::digest(data.as_bytes()))
}

fn blank_label(term: &Term) -> Option<&str> {
    match term {
        Term::Blank(label) => Some(label),
        _ => None,
    }
}

/// Blank nodes of a quad with their position: `s`, `o` or `g`.
fn blank_components(quad: &Quad) -> Vec<(&str, char)> {
    let mut components = Vec::new();
    if let Some(label) = blank_label(&quad.subject) {
        components.push((label, 's'));
    }
    if let Some(label) = blank_label(&quad.object) {
        components.push((label, 'o'));
    }
    if let Some(label) = quad.graph.as_ref().and_then(blank_label) {
        components.push((label, 'g'));
    }
    components
}

/// Canonicalizes `quads` and returns canonical N-Quads, sorted.
pub fn canonicalize(quads: &[Quad]) -> Result<String, TooMuchWork> {
    let mut state = State {
        quads,
        blank_to_quads: HashMap::new(),
        first_degree: HashMap::new(),
        canonical: Issuer::new("_:c14n"),
        work: 0,
    };
    for (index, quad) in quads.iter().enumerate() {
        for (label, _) in blank_components(quad) {
            let entry = state.blank_to_quads.entry(label.to_owned()).or_default();
            if entry.last() != Some(&index) {
                entry.push(index);
            }
        }
    }

    let mut hash_to_blanks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut labels: Vec<String> = state.blank_to_quads.keys().cloned().collect();
    labels.sort();
    for label in labels {
        let hash = state.hash_first_degree(&label);
        hash_to_blanks.entry(hash).or_default().push(label);
    }

    let mut shared = Vec::new();
    for (_, labels) in hash_to_blanks {
        if labels.len() == 1 {
            state.canonical.issue(&labels[0]);
        } else {
            shared.push(labels);
        }
    }
    for labels in shared {
        let mut results = Vec::new();
        for label in labels {
            if state.canonical.get(&label).is_some() {
                continue;
            }
            let mut temporary = Issuer::new("_:b");
            temporary.issue(&label);
            results.push(state.hash_n_degree(&label, temporary)?);
        }
        results.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, issuer) in results {
            for (existing, _) in &issuer.issued {
                state.canonical.issue(existing);
            }
        }
    }

    let relabel = |term: &Term| match term {
        Term::Blank(label) => Term::Blank(
            state
                .canonical
                .get(label)
                .cloned()
                .unwrap_or_else(|| label.clone()),
        ),
        other => other.clone(),
    };
    let mut lines: Vec<String> = quads
        .iter()
        .map(|quad| {
            nquad(&Quad {
                subject: relabel(&quad.subject),
                predicate: quad.predicate.clone(),
                object: relabel(&quad.object),
                graph: quad.graph.as_ref().map(relabel),
            })
        })
        .collect();
    lines.sort();
    lines.dedup();
    Ok(lines.concat())
}

impl State<'_> {
    /// RDFC-1.0 §4.6, Hash First Degree Quads.
    fn hash_first_degree(&mut self, reference: &str) -> String {
        if let Some(hash) = self.first_degree.get(reference) {
            return hash.clone();
        }
        let replace = |term: &Term| match term {
            Term::Blank(label) if label == reference => Term::Blank("_:a".to_owned()),
            Term::Blank(_) => Term::Blank("_:z".to_owned()),
            other => other.clone(),
        };
        let mut lines: Vec<String> = self.blank_to_quads[reference]
            .iter()
            .map(|&index| {
                let quad = &self.quads[index];
                nquad(&Quad {
                    subject: replace(&quad.subject),
                    predicate: quad.predicate.clone(),
                    object: replace(&quad.object),
                    graph: quad.graph.as_ref().map(replace),
                })
            })
            .collect();
        lines.sort();
        let hash = sha256_hex(&lines.concat());
        self.first_degree.insert(reference.to_owned(), hash.clone());
        hash
    }

    /// RDFC-1.0 §4.7, Hash Related Blank Node.
    fn hash_related(
        &mut self,
        related: &str,
        quad: usize,
        issuer: &Issuer,
        position: char,
    ) -> String {
        let identifier = match self.canonical.get(related).or_else(|| issuer.get(related)) {
            Some(id) => id.clone(),
            None => self.hash_first_degree(related),
        };
        let mut input = position.to_string();
        if position != 'g' {
            if let Term::Iri(predicate) = &self.quads[quad].predicate {
                input.push('<');
                input.push_str(predicate);
                input.push('>');
            }
        }
        input.push_str(&identifier);
        sha256_hex(&input)
    }

    fn spend(&mut self) -> Result<(), TooMuchWork> {
        self.work += 1;
        if self.work > MAX_WORK {
            Err(TooMuchWork)
        } else {
            Ok(())
        }
    }

    /// RDFC-1.0 §4.8, Hash N-Degree Quads.
    fn hash_n_degree(
        &mut self,
        identifier: &str,
        mut issuer: Issuer,
    ) -> Result<(String, Issuer), TooMuchWork> {
        self.spend()?;
        let mut hash_to_related: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let quad_indexes = self.blank_to_quads[identifier].clone();
        for index in quad_indexes {
            let components: Vec<(String, char)> = blank_components(&self.quads[index])
                .into_iter()
                .filter(|(label, _)| *label != identifier)
                .map(|(label, position)| (label.to_owned(), position))
                .collect();
            for (component, position) in components {
                let hash = self.hash_related(&component, index, &issuer, position);
                hash_to_related.entry(hash).or_default().push(component);
            }
        }

        let mut data = String::new();
        for (related_hash, related) in hash_to_related {
            data.push_str(&related_hash);
            let mut chosen_path = String::new();
            let mut chosen_issuer: Option<Issuer> = None;
            let mut permuter = Permuter::new(related);
            while let Some(permutation) = permuter.next_permutation() {
                self.spend()?;
                let mut issuer_copy = issuer.clone();
                let mut path = String::new();
                let mut recursion = Vec::new();
                let mut skip = false;
                for related in &permutation {
                    if let Some(id) = self.canonical.get(related) {
                        path.push_str(id);
                    } else {
                        if issuer_copy.get(related).is_none() {
                            recursion.push(related.clone());
                        }
                        path.push_str(&issuer_copy.issue(related));
                    }
                    if worse(&path, &chosen_path) {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                for related in recursion {
                    let (hash, result_issuer) =
                        self.hash_n_degree(&related, issuer_copy.clone())?;
                    path.push_str(&issuer_copy.issue(&related));
                    path.push('<');
                    path.push_str(&hash);
                    path.push('>');
                    issuer_copy = result_issuer;
                    if worse(&path, &chosen_path) {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                if chosen_path.is_empty() || path < chosen_path {
                    chosen_path = path;
                    chosen_issuer = Some(issuer_copy);
                }
            }
            data.push_str(&chosen_path);
            if let Some(chosen) = chosen_issuer {
                issuer = chosen;
            }
        }
        Ok((sha256_hex(&data), issuer))
    }
}

/// Whether `path` can no longer beat the best path found so far.
fn worse(path: &str, chosen: &str) -> bool {
    !chosen.is_empty() && path.len() >= chosen.len() && path > chosen
}

/// Permutations in the order rdf-canonize produces them: starting from the
/// sorted list, each step swaps the largest mobile element
/// (Steinhaus-Johnson-Trotter).
struct Permuter {
    current: Vec<String>,
    left: HashMap<String, bool>,
    done: bool,
}

impl Permuter {
    fn new(mut list: Vec<String>) -> Self {
        list.sort();
        let left = list.iter().map(|item| (item.clone(), true)).collect();
        Self {
            current: list,
            left,
            done: false,
        }
    }

    fn next_permutation(&mut self) -> Option<Vec<String>> {
        if self.done {
            return None;
        }
        let result = self.current.clone();
        let length = self.current.len();
        let mut mobile: Option<(String, usize)> = None;
        for (index, element) in self.current.iter().enumerate() {
            let looks_left = self.left.get(element).copied().unwrap_or(true);
            let is_mobile = if looks_left {
                index > 0 && *element > self.current[index - 1]
            } else {
                index + 1 < length && *element > self.current[index + 1]
            };
            if is_mobile && mobile.as_ref().is_none_or(|(largest, _)| element > largest) {
                mobile = Some((element.clone(), index));
            }
        }
        match mobile {
            None => self.done = true,
            Some((element, index)) => {
                let swap = if self.left.get(&element).copied().unwrap_or(true) {
                    index - 1
                } else {
                    index + 1
                };
                self.current.swap(index, swap);
                for item in &self.current {
                    if *item > element {
                        if let Some(direction) = self.left.get_mut(item) {
                            *direction = !*direction;
                        }
                    }
                }
            }
        }
        Some(result)
    }
}

/// Serializes one statement as a canonical N-Quads line.
pub fn nquad(quad: &Quad) -> String {
    let mut line = String::new();
    term(&mut line, &quad.subject);
    line.push(' ');
    term(&mut line, &quad.predicate);
    line.push(' ');
    term(&mut line, &quad.object);
    if let Some(graph) = &quad.graph {
        line.push(' ');
        term(&mut line, graph);
    }
    line.push_str(" .\n");
    line
}

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

fn term(out: &mut String, term: &Term) {
    match term {
        Term::Iri(iri) => {
            out.push('<');
            out.push_str(iri);
            out.push('>');
        }
        Term::Blank(label) => out.push_str(label),
        Term::Literal {
            value,
            datatype,
            language,
        } => {
            out.push('"');
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    _ => out.push(c),
                }
            }
            out.push('"');
            match language {
                Some(language) => {
                    out.push('@');
                    out.push_str(language);
                }
                None if datatype == XSD_STRING => {}
                None => {
                    out.push_str("^^<");
                    out.push_str(datatype);
                    out.push('>');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_follow_rdf_canonize_order() {
        let mut permuter = Permuter::new(vec!["c".into(), "a".into(), "b".into()]);
        let mut seen = Vec::new();
        while let Some(permutation) = permuter.next_permutation() {
            seen.push(permutation.concat());
        }
        assert_eq!(seen, ["abc", "acb", "cab", "cba", "bca", "bac"]);
    }

    #[test]
    fn blank_node_clique_hits_work_limit() {
        // Twelve blank nodes, each linked to every other: indistinguishable.
        let nodes: Vec<String> = (0..12).map(|i| format!("_:n{i}")).collect();
        let mut quads = Vec::new();
        for a in &nodes {
            for b in &nodes {
                if a != b {
                    quads.push(Quad {
                        subject: Term::Blank(a.clone()),
                        predicate: Term::Iri("https://example.org/p".into()),
                        object: Term::Blank(b.clone()),
                        graph: None,
                    });
                }
            }
        }
        assert_eq!(canonicalize(&quads), Err(TooMuchWork));
    }
}
