//! The learning platform's CSV export of completions, through
//! `issuer::import::read_export`: header check and every row, without a
//! database.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = issuer::import::read_export(data) else {
        return;
    };
    let mut last_line = 1;
    for row in rows {
        let line = match row {
            Ok((line, _)) => line,
            Err(error) => error.line,
        };
        assert!(line > last_line, "line {line} after line {last_line}");
        last_line = line;
    }
});
