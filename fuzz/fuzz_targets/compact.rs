//! The compact signed form a QR code link carries after `#`, through the
//! public `credentials::compact::verify`.
//!
//! The first byte selects the mode. Bit 0 passes the academy's full
//! credential for the claims to agree with. Bit 1 unset: the rest is the
//! compact form as scanned. Bit 1 set: the rest is a JWS protected header
//! and a payload, separated by the first newline. The target signs them
//! with the academy's key (RFC 7515 compact serialization, `EdDSA`), so
//! the checks after the signature run on fuzzed claims too.

#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use credentials::compact;
use ed25519_dalek::Signer;
use libfuzzer_sys::fuzz_target;
use taawounya_fuzz::{academy, now};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let academy = academy();
    let full = (mode & 1 == 1).then_some(&academy.credential);
    let compact = if mode & 2 == 0 {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        }
    } else {
        let Some(split) = rest.iter().position(|&byte| byte == b'\n') else {
            return;
        };
        let (header, payload) = (&rest[..split], &rest[split + 1..]);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = academy.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    };
    let verifier = &academy.verifier;
    let _ = compact::verify(&compact, &verifier.resolver, &verifier.trusted, now(), full);
});
