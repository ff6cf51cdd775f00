//! Bulk import of the learning platform's nightly export of completions.
//!
//! The export is a CSV file with the header
//! `member_id,module_id,completed_on,score,evidence_url` (the last two may
//! be empty). Each row is recorded like a `POST /completions` request, in
//! its own transaction, so the import can be stopped at any moment and run
//! again: rows stored before the stop are recognised as already imported
//! and are neither signed nor stored twice. A bad row is reported with its
//! line number, field and reason, and the import goes on with the others.

use crate::db::Pool;
use crate::issuance::{self, CompletionReport, IssueError, IssuerContext};
use chrono::Utc;
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// The header an export must start with, in this order.
pub const HEADER: [&str; 5] = [
    "member_id",
    "module_id",
    "completed_on",
    "score",
    "evidence_url",
];

/// Longest accepted field, in bytes; longer values are rejected before
/// they reach validation.
const MAX_FIELD_BYTES: usize = 4096;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line number in the file, counting the header as line 1.
    pub line: u64,
    /// The column at fault, or `row` when the whole row is.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// The result of an import: rows read, issued, skipped and rejected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Data rows read, good and bad.
    pub rows: u64,
    /// Rows that issued at least one new credential.
    pub issued: u64,
    /// Rows imported before, by an earlier run or through the API.
    pub already_imported: u64,
    /// Path credentials issued because a row finished a path.
    pub path_credentials: u64,
    pub rejected: Vec<RowError>,
}

/// Receives progress while an import runs: the number of data rows
/// handled so far.
pub trait Progress {
    fn advance(&self, rows_done: u64);
}

impl Progress for () {
    fn advance(&self, _rows_done: u64) {}
}

/// Counts the data rows of an export, for a progress bar's length. Quoted
/// fields with line breaks make this an upper bound.
pub fn count_rows(path: &Path) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        lines += buffer[..read].iter().filter(|&&byte| byte == b'\n').count() as u64;
        last = buffer[read - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Ok(lines.saturating_sub(1))
}

/// Imports every row of the export at `path`. Returns an error only when
/// the file cannot be read or its header is wrong; bad rows are listed in
/// the summary.
pub async fn import_file(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    path: &Path,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let file = std::fs::File::open(path)
        .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", path.display()))?;
    import_reader(pool, issuer, file, progress).await
}

/// Imports an export read from `input`; see [`import_file`].
pub async fn import_reader(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    input: impl Read,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|error| anyhow::anyhow!("the header line cannot be read: {error}"))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|name| {
            String::from_utf8_lossy(name)
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    if names != HEADER {
        anyhow::bail!(
            "the header must be `{}`, found `{}`",
            HEADER.join(","),
            names.join(",")
        );
    }

    let mut summary = Summary::default();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                // An unreadable row (for example an unclosed quote) ends the
                // file for the CSV reader; report it and stop reading.
                summary.rows += 1;
                summary.rejected.push(RowError {
                    line,
                    field: "row".to_owned(),
                    reason: format!("cannot be read as CSV: {error}"),
                });
                break;
            }
        }
        let line = record.position().map_or(line, |position| position.line());
        summary.rows += 1;
        match parse_row(&record) {
            Err((field, reason)) => summary.rejected.push(RowError {
                line,
                field: field.to_owned(),
                reason,
            }),
            Ok(report) => {
                match issuance::record_completion(pool, issuer, &report, Utc::now()).await {
                    Ok(outcome) => {
                        if outcome.created {
                            summary.issued += 1;
                        } else {
                            summary.already_imported += 1;
                        }
                        if outcome.created {
                            summary.path_credentials += outcome.path_credentials.len() as u64;
                        }
                    }
                    Err(
                        IssueError::Invalid { field, reason }
                        | IssueError::NotFound { field, reason },
                    ) => {
                        summary.rejected.push(RowError {
                            line,
                            field: field.to_owned(),
                            reason,
                        });
                    }
                    Err(error @ IssueError::Conflict { .. }) => summary.rejected.push(RowError {
                        line,
                        field: conflict_field(&error).to_owned(),
                        reason: error.to_string(),
                    }),
                    Err(error) => {
                        return Err(anyhow::anyhow!(
                        "line {line}: the completion could not be stored, so the import stopped \
                         (run it again to resume): {error}"
                    ));
                    }
                }
            }
        }
        progress.advance(summary.rows);
    }
    Ok(summary)
}

fn conflict_field(error: &IssueError) -> &'static str {
    match error {
        IssueError::Conflict { field } => field,
        _ => "row",
    }
}

/// Reads one data row into a completion report, or names the field that
/// is wrong.
fn parse_row(record: &csv::ByteRecord) -> Result<CompletionReport, (&'static str, String)> {
    if record.len() != HEADER.len() {
        return Err((
            "row",
            format!("has {} fields, expected {}", record.len(), HEADER.len()),
        ));
    }
    let mut fields = Vec::with_capacity(HEADER.len());
    for (name, value) in HEADER.iter().zip(record.iter()) {
        if value.len() > MAX_FIELD_BYTES {
            return Err((name, format!("is longer than {MAX_FIELD_BYTES} bytes")));
        }
        let text =
            std::str::from_utf8(value).map_err(|_| (*name, "is not valid UTF-8".to_owned()))?;
        fields.push(text);
    }
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let score = match fields[3] {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| ("score", "must be a whole number from 0 to 100".to_owned()))?,
        ),
    };
    Ok(CompletionReport {
        member_id: fields[0].to_owned(),
        module_id: fields[1].to_owned(),
        completed_on: fields[2].to_owned(),
        score,
        evidence_url: optional(fields[4]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> csv::ByteRecord {
        csv::ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn rows_parse_or_name_their_field() {
        let good = parse_row(&record(&[
            "m-0001",
            "fin-bookkeeping",
            "2026-11-20",
            "87",
            "",
        ]))
        .expect("good row");
        assert_eq!(good.score, Some(87));
        assert_eq!(good.evidence_url, None);

        let long = "x".repeat(MAX_FIELD_BYTES + 1);
        let cases: [(&[&str], &str); 4] = [
            (
                &["m-0001", "fin-bookkeeping", "2026-11-20", "high", ""],
                "score",
            ),
            (&["m-0001", "fin-bookkeeping", "2026-11-20", ""], "row"),
            (
                &["m-0001", "fin-bookkeeping", "2026-11-20", "", "", "extra"],
                "row",
            ),
            (
                &["m-0001", "fin-bookkeeping", "2026-11-20", "", long.as_str()],
                "evidence_url",
            ),
        ];
        for (fields, field) in cases {
            let error = parse_row(&record(fields)).expect_err("bad row");
            assert_eq!(error.0, field, "{fields:?}");
        }
        let bad_utf8 = csv::ByteRecord::from(vec![
            b"m-0001".to_vec(),
            vec![0xff, 0xfe],
            b"2026-11-20".to_vec(),
            Vec::new(),
            Vec::new(),
        ]);
        assert_eq!(parse_row(&bad_utf8).expect_err("bad utf-8").0, "module_id");
    }

    #[test]
    fn row_count_ignores_header() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("export.csv");
        std::fs::write(&path, "a,b\n1,2\n3,4").expect("write");
        assert_eq!(count_rows(&path).expect("count"), 2);
        std::fs::write(&path, "a,b\n1,2\n").expect("write");
        assert_eq!(count_rows(&path).expect("count"), 1);
    }
}
