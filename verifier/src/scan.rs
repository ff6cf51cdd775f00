//! Reading a certificate's QR code: from a photo decoded on the server, and
//! the online check of the compact form a scanned link carries.

use crate::pages::{self, Fetched, LanguageQuery};
use crate::VerifierState;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use credentials::compact::{self, CompactError};
use credentials::problem::ProblemJson;
use serde::Deserialize;
use serde_json::json;

/// Largest photo accepted, in bytes: a 12-megapixel phone JPEG is 3 to 6 MB.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Largest body of `POST /scan/photo`, in bytes: one photo and the form's
/// boundaries and headers.
pub const MAX_PHOTO_BODY_BYTES: usize = MAX_PHOTO_BYTES + 4096;

/// Largest photo accepted, in pixels (width times height).
pub const MAX_PHOTO_PIXELS: u64 = 25_000_000;

/// Longest side, in pixels, a photo is reduced to before the QR code is
/// searched: enough for a code a quarter of the photo wide, and it bounds
/// the search time.
pub const SEARCH_SIDE: u32 = 1600;

/// Largest body of `POST /v/{token}/compact`, in bytes: a compact form of
/// [`compact::MAX_LENGTH`] bytes in its JSON object, with room to spare.
pub const MAX_COMPACT_BODY_BYTES: usize = 2 * compact::MAX_LENGTH;

pub fn router() -> Router<VerifierState> {
    Router::new()
        .route("/scan/photo", post(photo))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_PHOTO_BODY_BYTES))
        // Registered after the photo limit so that it keeps its own.
        .route(
            "/v/{token}/compact",
            post(check_compact).layer(axum::extract::DefaultBodyLimit::max(MAX_COMPACT_BODY_BYTES)),
        )
}

/// Why no certificate link came out of a photo.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo is not a PNG or JPEG image")]
    NotAnImage,
    #[error("the photo is larger than the limits")]
    TooLarge,
    #[error("no QR code was found")]
    NoCode,
    #[error("the QR code is not a certificate link")]
    NotALink,
}

impl PhotoError {
    /// Returns the status of the page that shows the error: 413 for a
    /// photo over the byte or pixel limits, 400 otherwise.
    fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotAnImage | Self::NoCode | Self::NotALink => StatusCode::BAD_REQUEST,
        }
    }

    fn text_key(&self) -> &'static str {
        match self {
            Self::NotAnImage => "scan.photo_not_image",
            Self::TooLarge => "scan.photo_too_large",
            Self::NoCode => "scan.photo_no_code",
            Self::NotALink => "scan.photo_not_link",
        }
    }
}

/// Decodes a PNG or JPEG photo and returns the text of the first QR code
/// found in it.
pub fn decode_photo(bytes: &[u8]) -> Result<String, PhotoError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(
        reader.format(),
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg)
    ) {
        return Err(PhotoError::NotAnImage);
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    // Three bytes per pixel while decoding, plus the grey copy.
    limits.max_alloc = Some(MAX_PHOTO_PIXELS * 4);
    reader.limits(limits);
    let (width, height) = reader
        .into_dimensions()
        .map_err(|_| PhotoError::NotAnImage)?;
    if u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(PhotoError::TooLarge);
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PhotoError::NotAnImage)?;
    reader.limits(limits_for(width, height));
    let image = reader.decode().map_err(|error| match error {
        image::ImageError::Limits(_) => PhotoError::TooLarge,
        _ => PhotoError::NotAnImage,
    })?;
    let image = if width.max(height) > SEARCH_SIDE {
        image.resize(
            SEARCH_SIDE,
            SEARCH_SIDE,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image
    };
    // NOTE: in one test run rqrr 0.9 failed with a data error on a clean
    // issuer QR code. Photos are tried at one size only, so such a code
    // may not be read here.
    let mut prepared = rqrr::PreparedImage::prepare(image.to_luma8());
    // rqrr 0.9 panics on some images (for example a QR code drawn one pixel
    // per module fails the assertion `scan >= 1` in its grid measurement),
    // so a panic counts as no code found.
    let search = std::panic::AssertUnwindSafe(|| {
        prepared
            .detect_grids()
            .iter()
            .find_map(|grid| grid.decode().ok().map(|(_, content)| content))
    });
    std::panic::catch_unwind(search)
        .ok()
        .flatten()
        .ok_or(PhotoError::NoCode)
}

fn limits_for(width: u32, height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_PHOTO_PIXELS * 4);
    limits
}

/// Reads the path `/v/{token}` (or `/V/{token}`, as QR codes write it) and
/// the fragment of a scanned link. Any host is accepted: the token is
/// looked up at this verifier's trusted issuers, and the fragment is
/// checked against their keys.
pub fn verification_target(content: &str) -> Result<String, PhotoError> {
    let url = url::Url::parse(content.trim()).map_err(|_| PhotoError::NotALink)?;
    let token = url
        .path()
        .strip_prefix("/v/")
        .or_else(|| url.path().strip_prefix("/V/"))
        .filter(|token| compact::is_share_token(token))
        .ok_or(PhotoError::NotALink)?;
    let fragment = url.fragment().filter(|fragment| {
        fragment.len() <= compact::MAX_LENGTH
            && fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    Ok(match fragment {
        Some(fragment) => format!("/v/{token}#{fragment}"),
        None => format!("/v/{token}"),
    })
}

/// `POST /scan/photo`: a photo of a printed certificate; redirects to the
/// page its QR code opens.
async fn photo(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let language = pages::language(&query, &headers);
    // A body declared over the limit is rejected before any of it is read.
    let declared = credentials::problem::declared_length(&headers);
    let bytes = if declared.is_some_and(|length| length > MAX_PHOTO_BODY_BYTES as u64) {
        Err(PhotoError::TooLarge)
    } else {
        match multipart {
            Ok(multipart) => read_photo(multipart).await,
            Err(_) => Err(PhotoError::NotAnImage),
        }
    };
    let decoded = match bytes {
        Ok(bytes) => state
            .run(move |_| decode_photo(&bytes))
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "photo decoding did not run");
                Err(PhotoError::NoCode)
            }),
        Err(error) => Err(error),
    };
    match decoded.and_then(|content| verification_target(&content)) {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(error) => pages::home_with_error(&state, language, error.status(), error.text_key())
            .into_response(),
    }
}

/// Reads the `photo` field. A body over the route's limit is
/// [`PhotoError::TooLarge`]. A form that breaks off or is not valid
/// multipart is [`PhotoError::NotAnImage`], never a truncated photo.
async fn read_photo(mut multipart: Multipart) -> Result<Vec<u8>, PhotoError> {
    let read_failed = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PhotoError::TooLarge
        } else {
            PhotoError::NotAnImage
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(read_failed)? {
        if field.name() != Some("photo") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(read_failed)? {
            if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                return Err(PhotoError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        if !bytes.is_empty() {
            return Ok(bytes);
        }
    }
    Err(PhotoError::NotAnImage)
}

#[derive(Deserialize)]
struct CompactRequest {
    compact: String,
}

/// `POST /v/{token}/compact`: checks the compact form from a scanned link
/// against the full credential behind the same token. The result is
/// `match`, `mismatch` (with the reason) or `unavailable` when the
/// credential could not be fetched.
async fn check_compact(
    State(state): State<VerifierState>,
    Path(token): Path<String>,
    ProblemJson(request): ProblemJson<CompactRequest>,
) -> Response {
    let full = match pages::fetch_shared(&state, &token).await {
        Fetched::Found(full) => full,
        Fetched::NotFound | Fetched::Unreachable => {
            return Json(json!({"result": "unavailable"})).into_response()
        }
    };
    let compact = request.compact;
    let outcome = state
        .run(move |verifier| {
            compact::verify(
                &compact,
                &verifier.resolver,
                &verifier.trusted,
                Utc::now(),
                Some(&full),
            )
        })
        .await;
    let body = match outcome {
        Ok(Ok(_)) => json!({"result": "match"}),
        // The period is the full credential's: the page already shows it.
        Ok(Err(CompactError::Expired(_) | CompactError::NotYetValid(_))) => {
            json!({"result": "match"})
        }
        Ok(Err(error)) => json!({"result": "mismatch", "detail": error.to_string()}),
        Err(error) => {
            tracing::warn!(%error, "compact form check did not run");
            json!({"result": "unavailable"})
        }
    };
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_reads_qr_links_in_capitals() {
        let token = "294011838201947302857716492003185577461";
        assert_eq!(
            verification_target(&format!("HTTPS://VERIFY.EXAMPLE/V/{token}#0123456789")),
            Ok(format!("/v/{token}#0123456789"))
        );
        assert_eq!(
            verification_target(&format!("https://verify.example/v/{token}1")),
            Err(PhotoError::NotALink)
        );
    }

    #[test]
    fn target_keeps_token_and_fragment() {
        let token = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            verification_target(&format!("https://verify.example/v/{token}#aGk.eyJ9.c2ln")),
            Ok(format!("/v/{token}#aGk.eyJ9.c2ln"))
        );
        assert_eq!(
            verification_target(&format!("http://127.0.0.1:1/v/{token}")),
            Ok(format!("/v/{token}"))
        );
        // A fragment with other characters is dropped, never passed on.
        assert_eq!(
            verification_target(&format!(
                "https://verify.example/v/{token}#a%0d%0aSet-Cookie"
            )),
            Ok(format!("/v/{token}"))
        );
    }

    #[test]
    fn target_rejects_other_links() {
        for content in [
            "not a link",
            "https://verify.example/v/short",
            "https://verify.example/other/0123456789abcdef0123456789abcdef",
            "WIFI:S:cafe;T:WPA;P:secret;;",
        ] {
            assert_eq!(
                verification_target(content),
                Err(PhotoError::NotALink),
                "{content}"
            );
        }
    }

    #[test]
    fn photo_limits_are_enforced() {
        assert_eq!(
            decode_photo(b"GIF89a not a photo"),
            Err(PhotoError::NotAnImage)
        );
        assert_eq!(decode_photo(b""), Err(PhotoError::NotAnImage));
        // A blank PNG that claims 6,000 by 6,000 pixels.
        let mut png = Vec::new();
        let blank = image::GrayImage::new(6000, 6000);
        blank
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        assert_eq!(decode_photo(&png), Err(PhotoError::TooLarge));
        let small = image::GrayImage::from_pixel(200, 200, image::Luma([255]));
        let mut png = Vec::new();
        small
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        assert_eq!(decode_photo(&png), Err(PhotoError::NoCode));
    }

    #[test]
    fn photo_of_qr_decodes() {
        let link = "https://verify.example/v/0123456789abcdef0123456789abcdef#aGk.eyJ9.c2ln";
        let png = credentials::qr::png(link, 6).expect("png");
        // Place the code on a larger grey background, as in a photo.
        let code = image::load_from_memory(&png).expect("png").to_luma8();
        let mut photo = image::GrayImage::from_pixel(2400, 1800, image::Luma([200]));
        image::imageops::overlay(&mut photo, &code, 900, 600);
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(photo)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .expect("jpeg");
        assert_eq!(decode_photo(&jpeg).as_deref(), Ok(link));
    }
}
