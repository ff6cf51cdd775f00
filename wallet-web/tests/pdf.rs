//! The printable certificate, read back with poppler's tools
//! (`poppler-utils`): the text, the QR code on the rendered page and the
//! attached credential.

mod common;

use axum::http::{header, StatusCode};
use common::{encode_id, TestWallet, FATIMA, FATIMA_EMAIL};
use std::path::Path;
use std::process::Command;

/// Runs a poppler tool and returns its standard output.
fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{tool} failed to start ({error}); install poppler-utils"));
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Title of a catalogue entry in `language`.
async fn title(wallet: &TestWallet, table: &str, id: &str, language: &str) -> String {
    let json: String = sqlx::query_scalar(&format!("SELECT title FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&wallet.state.db)
        .await
        .expect("title");
    let titles: serde_json::Value = serde_json::from_str(&json).expect("title json");
    titles[language].as_str().expect("title").to_owned()
}

/// Issues the finance path to Fatima, downloads its PDF into the test's
/// folder and returns the PDF's path and the credential id.
async fn printed_path_certificate(wallet: &TestWallet) -> (std::path::PathBuf, String) {
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let response = wallet
        .get(
            &format!("/certificates/{}.pdf", encode_id(&id)),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.header(header::CONTENT_TYPE).as_deref(),
        Some("application/pdf")
    );
    let uuid = id.strip_prefix("urn:uuid:").expect("urn:uuid id");
    assert_eq!(
        response.header(header::CONTENT_DISPOSITION),
        Some(format!("attachment; filename=\"certificate-{uuid}.pdf\""))
    );
    assert!(response.body.starts_with(b"%PDF-"));
    let file = wallet.dir.path().join("certificate.pdf");
    std::fs::write(&file, &response.body).expect("write pdf");
    (file, id)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[tokio::test]
async fn pdf_text_in_three_scripts() {
    let wallet = TestWallet::start().await;
    let (file, id) = printed_path_certificate(&wallet).await;

    let info = String::from_utf8(poppler("pdfinfo", &[path_str(&file)])).expect("utf-8");
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("pdfinfo shows no {name}\n{info}"))
            .to_owned()
    };
    assert_eq!(field("Pages:"), "1");
    assert_eq!(
        field("Page size:"),
        "841.89 x 595.28 pts (A4)",
        "A4 landscape"
    );

    let text = String::from_utf8(poppler("pdftotext", &[path_str(&file), "-"])).expect("utf-8");
    let expected = [
        title(&wallet, "paths", "path-finance", "fr").await,
        title(&wallet, "paths", "path-finance", "ar").await,
        title(&wallet, "paths", "path-finance", "zgh").await,
        "Fatima Ait Baha".to_owned(),
        "فاطمة أيت باها".to_owned(),
        "Coopérative Tifawin d'huile d'argan".to_owned(),
        // NOTE: pdftotext 22.12 swaps the two letters of a lam-alef
        // ligature in right-to-left text ("لإنتاج" comes out as "إلنتاج"),
        // so the cooperative's Arabic name is checked around that word.
        "تعاونية تيفاوين".to_owned(),
        "زيت أركان".to_owned(),
        "TaaWounYa".to_owned(),
        "2025-03-14".to_owned(),
        id.clone(),
    ];
    for words in expected {
        assert!(
            text.contains(&words),
            "the PDF text lacks {words:?} in logical order:\n{text}"
        );
    }
}

#[tokio::test]
async fn pdf_qr_decodes_to_link() {
    let wallet = TestWallet::start().await;
    let (file, id) = printed_path_certificate(&wallet).await;
    let (_, share_token) = wallet.stored(&id).await;

    // 200 dots per inch give about 3.8 pixels per module to a version 12
    // code 35 mm wide: a phone camera at arm's length captures about as many.
    const DPI: f32 = 200.0;
    let prefix = wallet.dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-gray",
            "-png",
            "-singlefile",
            path_str(&file),
            path_str(&prefix),
        ],
    );
    let image = image::open(prefix.with_extension("png"))
        .expect("rendered page")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("decode qr");
    let fragment = content
        .strip_prefix(&format!("HTTP://127.0.0.1:8081/V/{share_token}#"))
        .expect(&content);
    assert!(fragment.bytes().all(|b| b.is_ascii_digit()), "{content}");

    // The code itself, without its quiet zone, is at least 35 mm wide.
    let bounds = grids[0].bounds;
    let width_pixels = (bounds[1].x - bounds[0].x).abs() as f32;
    let width_mm = width_pixels / DPI * 25.4;
    assert!(width_mm >= 35.0, "QR code is {width_mm:.1} mm wide");
}

#[tokio::test]
async fn pdf_attaches_stored_credential() {
    let wallet = TestWallet::start().await;
    let (file, id) = printed_path_certificate(&wallet).await;
    let (document, _) = wallet.stored(&id).await;

    let list = String::from_utf8(poppler("pdfdetach", &["-list", path_str(&file)])).expect("utf-8");
    let uuid = id.strip_prefix("urn:uuid:").expect("urn:uuid id");
    let name = format!("certificate-{uuid}.json");
    assert!(list.contains("1 embedded files"), "{list}");
    assert!(list.contains(&name), "{list}");

    let out = wallet.dir.path().join("attached.json");
    poppler(
        "pdfdetach",
        &["-save", "1", "-o", path_str(&out), path_str(&file)],
    );
    let attached = std::fs::read_to_string(&out).expect("attached file");
    assert_eq!(
        attached, document,
        "the attachment is the stored credential"
    );
}

#[tokio::test]
async fn pdf_of_other_member_not_found() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let other = wallet.sign_in(common::KHADIJA_EMAIL).await;
    let uri = format!("/certificates/{}.pdf", encode_id(&id));
    assert_eq!(
        wallet.get(&uri, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(wallet.get(&uri, None).await.status, StatusCode::NOT_FOUND);
}
