//! Photos that made the QR code search of `POST /scan/photo` fail, each
//! with the result `decode_photo` must return for it.

use verifier::scan::{decode_photo, PhotoError};

#[test]
fn photos_decode_without_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photos");
    // A QR code drawn one pixel per module makes rqrr 0.9 panic while it
    // measures the timing pattern.
    let cases = [("qr-one-pixel-modules.png", Err(PhotoError::NoCode))];
    for (name, expected) in cases {
        let bytes = std::fs::read(dir.join(name)).expect("fixture");
        assert_eq!(decode_photo(&bytes), expected, "{name}");
    }
}
