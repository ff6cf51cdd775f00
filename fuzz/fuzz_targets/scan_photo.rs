//! A photo of a QR code as `POST /scan/photo` receives it, through
//! `verifier::scan::decode_photo` with its size limits, then the link it
//! contains through `verification_target`. Input that is UTF-8 text is also
//! read as a scanned link.
//!
//! `decode_photo` catches the panics of the rqrr QR code decoder, but the
//! panic hook of libfuzzer-sys aborts before any unwinding, so the target
//! lets panics raised inside rqrr unwind (see `allow_caught_panics`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use verifier::scan;

fuzz_target!(init: taawounya_fuzz::allow_caught_panics(&["rqrr"]), |data: &[u8]| {
    if data.len() > scan::MAX_PHOTO_BYTES {
        return;
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = scan::verification_target(text);
    }
    if let Ok(content) = scan::decode_photo(data) {
        let _ = scan::verification_target(&content);
    }
});
