//! Bulk import of the learning platform's nightly export of completions.
//!
//! The export is a CSV file with the header
//! `member_id,module_id,completed_on,score,evidence_url` (the last two may
//! be empty). Each row is recorded like a `POST /completions` request, and
//! rows are committed in batches. The import can be stopped at any moment
//! and run again: rows stored before the stop are recognised as already
//! imported and are neither signed nor stored twice. A bad row is reported with its
//! line number, field and reason, and the import goes on with the others.

use crate::db::{self, Pool};
use crate::issuance::{self, CompletionReport, IssueError, IssuerContext};
use chrono::Utc;
use serde::Serialize;
use std::io::{BufRead, Read};
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

/// Rows recorded per transaction unless the caller chooses otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 100;

/// Imports every row of the export at `path`, `batch_rows` rows per
/// transaction. Returns an error only when the file cannot be read, its
/// header is wrong or the database fails; bad rows are listed in the
/// summary.
pub async fn import_file(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    path: &Path,
    batch_rows: usize,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let file = std::fs::File::open(path)
        .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", path.display()))?;
    import_reader(pool, issuer, file, batch_rows, progress).await
}

/// Imports an export read from `input`; see [`import_file`].
///
/// Rows are recorded in transactions of `batch_rows` rows (at least one).
/// A stop loses at most the batch in progress, which the next run imports.
pub async fn import_reader(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    input: impl Read,
    batch_rows: usize,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let batch_rows = batch_rows.max(1);
    let mut rows = read_export(input)?.peekable();
    let mut summary = Summary::default();
    let mut next_analyze = FIRST_ANALYZE;
    let mut lines = Vec::with_capacity(batch_rows);
    let mut reports = Vec::with_capacity(batch_rows);
    while rows.peek().is_some() {
        lines.clear();
        reports.clear();
        for row in rows.by_ref() {
            summary.rows += 1;
            match row {
                Err(error) => summary.rejected.push(error),
                Ok((line, report)) => {
                    lines.push(line);
                    reports.push(report);
                }
            }
            if reports.len() == batch_rows {
                break;
            }
        }
        let results = issuance::record_completions(pool, issuer, &reports, Utc::now())
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "lines {} to {}: the completions could not be stored, so the import \
                     stopped (run it again to resume): {error}",
                    lines.first().copied().unwrap_or_default(),
                    lines.last().copied().unwrap_or_default(),
                )
            })?;
        for (&line, result) in lines.iter().zip(results) {
            match result {
                Ok(outcome) => {
                    if outcome.created {
                        summary.issued += 1;
                        summary.path_credentials += outcome.path_credentials.len() as u64;
                    } else {
                        summary.already_imported += 1;
                    }
                }
                Err(error) => summary.rejected.push(RowError {
                    line,
                    field: rejected_field(&error).to_owned(),
                    reason: match error {
                        IssueError::Invalid { reason, .. }
                        | IssueError::NotFound { reason, .. } => reason,
                        other => other.to_string(),
                    },
                }),
            }
        }
        if summary.rows >= next_analyze {
            refresh_statistics(pool).await;
            next_analyze = summary.rows.saturating_mul(2);
        }
        progress.advance(summary.rows);
    }
    summary.rejected.sort_by_key(|error| error.line);
    if summary.rows >= FIRST_ANALYZE {
        refresh_statistics(pool).await;
    }
    Ok(summary)
}

/// Row at which the import first refreshes the planner statistics. It
/// does so again each time the row count doubles, and at the end.
const FIRST_ANALYZE: u64 = 1_000;

/// Refreshes the planner statistics (see [`db::refresh_statistics`]). A
/// failure only costs speed, so it is logged and the import goes on.
async fn refresh_statistics(pool: &Pool) {
    if let Err(error) = db::refresh_statistics(pool).await {
        tracing::warn!(%error, "failed to refresh the database statistics");
    }
}

/// Reads the header and data rows of an export, without a database.
///
/// Returns an error when the header line cannot be read or differs from
/// [`HEADER`]. Each item is one data row with its line number, or the
/// [`RowError`] that rejects it. A read error (with byte records and
/// flexible rows, only an I/O error) is the last item, because the reader
/// cannot go past it. An unclosed quote is not an error: the CSV reader
/// reads the rest of the file into that field.
pub fn read_export<R: Read>(
    input: R,
) -> anyhow::Result<impl Iterator<Item = Result<(u64, CompletionReport), RowError>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineEndingsAsLf::new(input));
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

    let mut record = csv::ByteRecord::new();
    let mut finished = false;
    Ok(std::iter::from_fn(move || {
        if finished {
            return None;
        }
        let line = reader.position().line() + 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => {
                finished = true;
                None
            }
            Ok(true) => {
                let line = record.position().map_or(line, |position| position.line());
                let row = parse_row(&record).map_err(|(field, reason)| RowError {
                    line,
                    field: field.to_owned(),
                    reason,
                });
                Some(row.map(|report| (line, report)))
            }
            Err(error) => {
                finished = true;
                Some(Err(RowError {
                    line,
                    field: "row".to_owned(),
                    reason: format!("cannot be read as CSV: {error}"),
                }))
            }
        }
    }))
}

/// A reader that turns every line ending (CRLF, or CR alone) into LF and
/// leaves every other byte as it is. The CSV reader ends a row at any of
/// the three but counts lines by LF alone, and records where a row starts
/// before it skips the LF of a CRLF. Without this, each row of a CRLF
/// export would be reported one line early, and rows after a lone CR would
/// share a line number.
struct LineEndingsAsLf<R> {
    inner: std::io::BufReader<R>,
    /// Whether the last byte read was a CR, so that an LF right after it
    /// belongs to the same line ending.
    after_cr: bool,
}

impl<R: Read> LineEndingsAsLf<R> {
    fn new(inner: R) -> Self {
        Self {
            inner: std::io::BufReader::new(inner),
            after_cr: false,
        }
    }
}

impl<R: Read> Read for LineEndingsAsLf<R> {
    fn read(&mut self, output: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < output.len() {
            let Some(&byte) = self.inner.fill_buf()?.first() else {
                break;
            };
            self.inner.consume(1);
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            if byte == b'\n' && after_cr {
                continue;
            }
            output[written] = if byte == b'\r' { b'\n' } else { byte };
            written += 1;
        }
        Ok(written)
    }
}

/// Names the column a rejected row is reported under.
fn rejected_field(error: &IssueError) -> &'static str {
    match error {
        IssueError::Invalid { field, .. }
        | IssueError::NotFound { field, .. }
        | IssueError::Conflict { field } => field,
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

    /// Exports the import parser once got wrong, each with the line numbers
    /// its rows must be reported on.
    #[test]
    fn exports_report_row_lines() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
        let cases: [(&str, &[u64]); 2] = [
            ("crlf-line-endings.csv", &[2, 3]),
            ("cr-line-endings.csv", &[2, 3, 4, 5, 6]),
        ];
        for (name, expected) in cases {
            let bytes = std::fs::read(dir.join(name)).expect("fixture");
            let lines: Vec<u64> = read_export(bytes.as_slice())
                .expect("header")
                .map(|row| match row {
                    Ok((line, _)) => line,
                    Err(error) => error.line,
                })
                .collect();
            assert_eq!(lines, expected, "{name}");
        }
    }

    #[test]
    fn line_endings_become_lf() {
        let mut output = String::new();
        LineEndingsAsLf::new("a\r\nb\rc\r\r\nd\n\re\r".as_bytes())
            .read_to_string(&mut output)
            .expect("read");
        assert_eq!(output, "a\nb\nc\n\nd\n\ne\n");

        let mut reader = LineEndingsAsLf::new("a\r\nb\r".as_bytes());
        let mut bytes = Vec::new();
        let mut byte = [0u8; 1];
        while reader.read(&mut byte).expect("read") == 1 {
            bytes.push(byte[0]);
        }
        assert_eq!(bytes, b"a\nb\n");
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
