//! QR codes that open a credential's public verification page.

use image::{ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the link is too long for a QR code: {0}")]
    TooLong(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// Highest QR version (at level M) a verification link may need while it
/// carries the compact form; above it the link goes without it. Version 12
/// is 65 modules wide, which a phone camera still reads when the code is
/// printed about 35 mm wide.
pub const MAX_COMPACT_VERSION: i16 = 12;

/// Reads `QR_MAX_VERSION`: the highest QR version a link with the compact
/// form may need, from 1 to 40, [`MAX_COMPACT_VERSION`] when unset.
pub fn max_version_from_env() -> anyhow::Result<i16> {
    match std::env::var("QR_MAX_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Ok(MAX_COMPACT_VERSION),
        Some(value) => value
            .parse::<i16>()
            .ok()
            .filter(|version| (1..=40).contains(version))
            .ok_or_else(|| {
                anyhow::anyhow!("QR_MAX_VERSION must be a QR version from 1 to 40, got {value:?}")
            }),
    }
}

/// Error correction level M (15% recovery): readable from a creased or
/// slightly dirty printout while keeping the code small.
fn code(link: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        link.as_bytes(),
        EcLevel::M,
    )?)
}

/// Renders `link` as a PNG with `module_pixels` pixels per module and the
/// four-module quiet zone the standard requires.
pub fn png(link: &str, module_pixels: u32) -> Result<Vec<u8>, QrError> {
    let image = code(link)?
        .render::<Luma<u8>>()
        .module_dimensions(module_pixels, module_pixels)
        .quiet_zone(true)
        .build();
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::L8,
    )?;
    Ok(bytes)
}

/// Renders `link` as an SVG document that scales to any print size.
pub fn svg(link: &str) -> Result<String, QrError> {
    Ok(code(link)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The QR version (1 to 40) `link` needs at level M.
pub fn version(link: &str) -> Result<i16, QrError> {
    match code(link)?.version() {
        qrcode::Version::Normal(n) | qrcode::Version::Micro(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_decodes_with_independent_reader() {
        let link = "https://verify.example/v/abc123";
        let bytes = png(link, 6).expect("png");
        let image = image::load_from_memory(&bytes)
            .expect("decode png")
            .to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().expect("decode qr");
        assert_eq!(content, link);
    }

    #[test]
    fn svg_is_an_svg_document() {
        let svg = svg("https://verify.example/v/abc123").expect("svg");
        assert!(svg.contains("<svg"));
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
