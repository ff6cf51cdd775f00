//! The printable certificate: one A4 landscape PDF page in French, Arabic
//! and Tamazight, with the verification QR code drawn as vector squares
//! and the signed credential attached as a file.
//!
//! The attachment means a printout's PDF file remains a verifiable
//! document on its own: `pdfdetach` or any PDF reader extracts the
//! credential, which the verifier's check form accepts.

use crate::plain_text::PlainTexts;
use crate::typeset::{Fonts, Line};
use krilla::color::rgb;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::{DateTime as PdfDateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::Document;
use qrcode::{Color, EcLevel, QrCode};

/// A4 landscape, in points (1/72 inch).
const PAGE_WIDTH: f32 = 841.89;
const PAGE_HEIGHT: f32 = 595.28;

/// Side of the QR code including its quiet zone, in points. 150 pt is
/// 52.9 mm, so the code without its quiet zone is above the 35 mm the
/// printed certificates must have.
pub const QR_SIDE: f32 = 150.0;

/// Modules of white margin around the QR code, as ISO/IEC 18004 requires.
const QR_QUIET_ZONE: usize = 4;

/// The column of text, left of the QR code.
const TEXT_CENTER: f32 = 330.0;
const TEXT_WIDTH: f32 = 520.0;

/// The academy's green, as on the wallet's pages.
const GREEN: (u8, u8, u8) = (0x14, 0x53, 0x2d);

/// Content of the certificate, from the stored credential and the members
/// and cooperatives tables.
pub struct PrintedCertificate {
    pub academy_fr: String,
    pub academy_ar: String,
    pub cooperative_latin: String,
    pub cooperative_ar: String,
    pub member_latin: String,
    pub member_ar: String,
    pub achievement_fr: String,
    pub achievement_ar: String,
    pub achievement_zgh: String,
    /// Calendar date of `validFrom`, `YYYY-MM-DD`.
    pub date: String,
    pub issued: chrono::DateTime<chrono::Utc>,
    /// The verification link the QR code opens.
    pub link: String,
    pub credential_id: String,
    /// The signed credential exactly as stored.
    pub credential_json: String,
    /// Name of the attached file, `certificate-<uuid>.json`.
    pub file_name: String,
}

/// Renders the certificate as a PDF file.
// TODO: mark each Arabic ligature glyph with an ActualText span (tagged
// PDF). Without it, poppler's pdftotext extracts a lam-alef ligature with
// its two letters swapped, although the page shows it correctly.
pub fn render(
    fonts: &Fonts,
    texts: &PlainTexts,
    certificate: &PrintedCertificate,
) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::new();
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| anyhow::anyhow!("invalid page size"))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    draw_frame(&mut surface);
    draw_texts(&mut surface, fonts, texts, certificate);
    draw_qr(
        &mut surface,
        &certificate.link,
        PAGE_WIDTH - 60.0 - QR_SIDE,
        215.0,
    )?;
    let caption = bilingual(texts, "pdf.scan");
    let caption = fonts.fit(&caption, 10.0, false, QR_SIDE + 30.0);
    let qr_center = PAGE_WIDTH - 60.0 - QR_SIDE / 2.0;
    fonts.draw(
        &mut surface,
        &caption,
        qr_center - caption.width() / 2.0,
        385.0,
    );
    surface.finish();
    page.finish();

    let date = pdf_date(certificate.issued);
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} – {}",
                texts.text("fr", "pdf.title", &[]),
                certificate.achievement_fr
            ))
            .language("fr".to_owned())
            .creation_date(date),
    );
    let attached = document.embed_file(EmbeddedFile {
        path: certificate.file_name.clone(),
        mime_type: MimeType::new("application/json"),
        description: Some(texts.text("en", "pdf.attached", &[])),
        association_kind: AssociationKind::Source,
        data: certificate.credential_json.clone().into_bytes().into(),
        modification_date: Some(date),
        compress: Some(true),
        location: None,
    });
    if attached.is_none() {
        anyhow::bail!("the credential could not be attached to the PDF");
    }
    document
        .finish()
        .map_err(|error| anyhow::anyhow!("writing the PDF failed: {error:?}"))
}

fn pdf_date(instant: chrono::DateTime<chrono::Utc>) -> PdfDateTime {
    use chrono::{Datelike, Timelike};
    // Every field is in range because it comes from a valid date.
    PdfDateTime::new(instant.year().clamp(0, 9999) as u16)
        .month(instant.month() as u8)
        .day(instant.day() as u8)
        .hour(instant.hour() as u8)
        .minute(instant.minute() as u8)
        .second(instant.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Joins the French and Arabic texts of `key` on one line.
fn bilingual(texts: &PlainTexts, key: &str) -> String {
    format!(
        "{} · {}",
        texts.text("fr", key, &[]),
        texts.text("ar", key, &[])
    )
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Draws the double green border.
fn draw_frame(surface: &mut Surface) {
    surface.set_fill(None);
    for (inset, width) in [(22.0, 3.0), (30.0, 0.8)] {
        let Some(rect) = Rect::from_xywh(
            inset,
            inset,
            PAGE_WIDTH - 2.0 * inset,
            PAGE_HEIGHT - 2.0 * inset,
        ) else {
            continue;
        };
        let mut builder = PathBuilder::new();
        builder.push_rect(rect);
        if let Some(path) = builder.finish() {
            surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(GREEN.0, GREEN.1, GREEN.2).into(),
                width,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
    }
    surface.set_stroke(None);
}

/// Draws the names, the achievement and the date, centred in the text
/// column, from top to bottom.
fn draw_texts(
    surface: &mut Surface,
    fonts: &Fonts,
    texts: &PlainTexts,
    certificate: &PrintedCertificate,
) {
    let green = fill(GREEN);
    let black = fill((0x1b, 0x1b, 0x1b));
    let grey = fill((0x55, 0x55, 0x55));
    let centred = |surface: &mut Surface, line: &Line, center: f32, y: f32| {
        fonts.draw(surface, line, center - line.width() / 2.0, y);
    };
    let page_center = PAGE_WIDTH / 2.0;
    let page_text_width = PAGE_WIDTH - 120.0;

    // (text, size, bold, colour, baseline, whole page width)
    let title_zgh = texts.text("zgh", "pdf.title", &[]);
    // The date has a line of its own: after Arabic letters, the bidi
    // algorithm would read its digits as an Arabic number and reorder it.
    let lines: [(&str, f32, bool, &Fill, f32, bool); 17] = [
        (&certificate.academy_fr, 20.0, true, &green, 78.0, true),
        (&certificate.academy_ar, 18.0, true, &green, 106.0, true),
        (
            &texts.text("fr", "pdf.title", &[]),
            26.0,
            true,
            &black,
            158.0,
            false,
        ),
        (
            &texts.text("ar", "pdf.title", &[]),
            22.0,
            true,
            &black,
            188.0,
            false,
        ),
        (&title_zgh, 15.0, false, &black, 212.0, false),
        (
            &bilingual(texts, "pdf.awarded_to"),
            11.0,
            false,
            &grey,
            246.0,
            false,
        ),
        (&certificate.member_latin, 24.0, true, &black, 276.0, false),
        (&certificate.member_ar, 24.0, true, &black, 308.0, false),
        (
            &bilingual(texts, "pdf.cooperative"),
            11.0,
            false,
            &grey,
            338.0,
            false,
        ),
        (
            &certificate.cooperative_latin,
            14.0,
            false,
            &black,
            358.0,
            false,
        ),
        (
            &certificate.cooperative_ar,
            14.0,
            false,
            &black,
            380.0,
            false,
        ),
        (
            &bilingual(texts, "pdf.achievement"),
            11.0,
            false,
            &grey,
            406.0,
            false,
        ),
        (
            &certificate.achievement_fr,
            18.0,
            true,
            &green,
            430.0,
            false,
        ),
        (
            &certificate.achievement_ar,
            18.0,
            true,
            &green,
            457.0,
            false,
        ),
        (
            &certificate.achievement_zgh,
            15.0,
            false,
            &green,
            480.0,
            false,
        ),
        (
            &bilingual(texts, "pdf.date"),
            11.0,
            false,
            &grey,
            512.0,
            false,
        ),
        (&certificate.date, 12.0, true, &black, 528.0, false),
    ];
    for (text, size, bold, colour, baseline, whole_page) in lines {
        let (center, width) = if whole_page {
            (page_center, page_text_width)
        } else {
            (TEXT_CENTER, TEXT_WIDTH)
        };
        surface.set_fill(Some(colour.clone()));
        let line = fonts.fit(text, size, bold, width);
        centred(surface, &line, center, baseline);
    }

    surface.set_fill(Some(grey));
    let footer = format!(
        "{} · {}",
        texts.text("fr", "pdf.attached", &[]),
        certificate.credential_id
    );
    let footer = fonts.fit(&footer, 7.5, false, page_text_width);
    centred(surface, &footer, page_center, PAGE_HEIGHT - 42.0);
    let footer_ar = fonts.fit(
        &texts.text("ar", "pdf.attached", &[]),
        7.5,
        false,
        page_text_width,
    );
    centred(surface, &footer_ar, page_center, PAGE_HEIGHT - 52.0);
}

/// Draws the QR code of `link` as black squares on a white square whose
/// top-left corner is at (`x`, `y`).
fn draw_qr(surface: &mut Surface, link: &str, x: f32, y: f32) -> anyhow::Result<()> {
    let code = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let colors = code.to_colors();
    let module = QR_SIDE / (width + 2 * QR_QUIET_ZONE) as f32;

    let mut background = PathBuilder::new();
    if let Some(rect) = Rect::from_xywh(x, y, QR_SIDE, QR_SIDE) {
        background.push_rect(rect);
    }
    if let Some(path) = background.finish() {
        surface.set_fill(Some(fill((0xff, 0xff, 0xff))));
        surface.draw_path(&path);
    }

    // One rectangle per horizontal run of dark modules.
    let mut modules = PathBuilder::new();
    for row in 0..width {
        let mut column = 0;
        while column < width {
            if colors[row * width + column] != Color::Dark {
                column += 1;
                continue;
            }
            let start = column;
            while column < width && colors[row * width + column] == Color::Dark {
                column += 1;
            }
            let left = x + (start + QR_QUIET_ZONE) as f32 * module;
            let top = y + (row + QR_QUIET_ZONE) as f32 * module;
            if let Some(rect) = Rect::from_xywh(left, top, (column - start) as f32 * module, module)
            {
                modules.push_rect(rect);
            }
        }
    }
    if let Some(path) = modules.finish() {
        surface.set_fill(Some(fill((0, 0, 0))));
        surface.draw_path(&path);
    }
    Ok(())
}
