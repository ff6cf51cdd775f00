//! The compact signed form a QR code link carries after `#`, through the
//! public `credentials::compact::verify`.
//!
//! The first byte selects the mode. Bit 0 passes the academy's full
//! credential for the claims to agree with. The other bits choose what
//! the rest is:
//! - 0: the compact form as scanned, digits (COSE) or a JWS;
//! - 2: a JWS protected header and a payload, separated by the first
//!   newline, which the target signs with the academy's key (RFC 7515
//!   compact serialization, `EdDSA`);
//! - 4 or 6: a COSE protected header and a payload, the header's length in
//!   the first byte, which the target signs as a COSE_Sign1 structure
//!   (RFC 9052) and writes as digits.
//!
//! Signing the fuzzed parts lets the checks after the signature run on
//! fuzzed claims too.

#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use credentials::{compact, cose};
use ed25519_dalek::Signer;
use libfuzzer_sys::fuzz_target;
use taawounya_fuzz::{academy, cose_sign1, now};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let academy = academy();
    let full = (mode & 1 == 1).then_some(&academy.credential);
    let compact = match mode & 6 {
        0 => match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        },
        2 => {
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
        }
        _ => {
            let Some((&length, rest)) = rest.split_first() else {
                return;
            };
            let Some((protected, payload)) = rest.split_at_checked(usize::from(length)) else {
                return;
            };
            cose::to_digits(&cose_sign1(&academy.key, protected, payload))
        }
    };
    let verifier = &academy.verifier;
    let _ = compact::verify(&compact, &verifier.resolver, &verifier.trusted, now(), full);
});
