//! One certificate: its detail page, the full-screen QR code, the public
//! link switch and the printable PDF.
//!
//! As on the list, a credential of another member is 404 for everyone.

use crate::certificates::{self, encode_id, other_names, qr_figure, time, validity};
use crate::error::WalletError;
use crate::language::Language;
use crate::pages::{display_text, Page};
use crate::pdf::{self, PrintedCertificate};
use crate::session::{Member, SignedIn};
use crate::sharing::{self, LinkedInCertification};
use crate::status;
use crate::WalletState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use credentials::i18n::{direction, escape_html, remove_hidden_controls};
use credentials::LocalizedText;
use serde::Deserialize;
use serde_json::Value;

/// A credential of the signed-in member with what its pages show.
struct Owned {
    id: String,
    document: String,
    share_token: String,
    valid_until: Option<String>,
    json: Value,
}

impl Owned {
    fn text(&self, pointer: &str) -> LocalizedText {
        LocalizedText::from_json(self.json.pointer(pointer))
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }
}

async fn load_owned(
    state: &WalletState,
    member: Option<&Member>,
    id: &str,
) -> Result<Owned, WalletError> {
    let member = member.ok_or(WalletError::NotFound)?;
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT document, share_token, valid_until FROM credentials WHERE id = $1 AND member_id = $2",
    )
    .bind(id)
    .bind(&member.id)
    .fetch_optional(&state.db)
    .await?;
    let (document, share_token, valid_until) = row.ok_or(WalletError::NotFound)?;
    let json = serde_json::from_str(&document)
        .map_err(|error| anyhow::anyhow!("stored credential {id} is not JSON: {error}"))?;
    Ok(Owned {
        id: id.to_owned(),
        document,
        share_token,
        valid_until,
        json,
    })
}

/// `GET /certificates/{id}`, `{id}.json` and `{id}.pdf`: the detail page,
/// the stored credential or the printable certificate.
pub async fn certificate_or_file(
    State(state): State<WalletState>,
    language: Language,
    SignedIn(member): SignedIn,
    Path(segment): Path<String>,
) -> Result<Response, WalletError> {
    if segment.ends_with(".json") {
        return certificates::download(State(state), SignedIn(member), Path(segment)).await;
    }
    if let Some(id) = segment.strip_suffix(".pdf") {
        return printable(&state, member.as_ref(), id).await;
    }
    detail_page(&state, language, member.as_ref(), &segment).await
}

async fn detail_page(
    state: &WalletState,
    language: Language,
    member: Option<&Member>,
    id: &str,
) -> Result<Response, WalletError> {
    let certificate = load_owned(state, member, id).await?;
    let shared = sharing::is_shared(&state.db, id).await?;
    let status = status::current(
        &state.db,
        id,
        certificate.valid_until.as_deref(),
        Utc::now(),
    )
    .await?;
    let encoded = encode_id(id);
    let path = format!("/certificates/{encoded}");
    let page = Page {
        texts: &state.texts,
        language: language.0,
        path: &path,
        signed_in: true,
    };

    let names = certificate.text("/name");
    let name = names.pick(page.language).unwrap_or(id).to_owned();
    let mut main = format!(
        "<p><a href=\"/certificates\">{back}</a></p>\n<h1><bdi>{name}</bdi></h1>\n{others}",
        back = page.text("detail.back"),
        name = display_text(&name),
        others = other_names(&page, &names, &name),
    );
    let status_name = page.text(status.text_key());
    main.push_str(&format!(
        "<p class=\"status {class}\">{label}</p>\n",
        class = status.css_class(),
        label = page.text_with_html("status.label", &[("status", &status_name)]),
    ));
    if let Some(date) = certificate.string("validFrom") {
        main.push_str(&format!(
            "<p>{}</p>\n",
            page.text_with_html("wallet.issued_on", &[("date", &time(date))])
        ));
    }
    main.push_str(&validity(&page, certificate.string("validUntil")));
    for (heading, pointer) in [
        (
            "detail.description",
            "/credentialSubject/achievement/description",
        ),
        (
            "detail.criteria",
            "/credentialSubject/achievement/criteria/narrative",
        ),
    ] {
        if let Some(text) = certificate.text(pointer).pick(page.language) {
            main.push_str(&format!(
                "<h2>{}</h2>\n<p><bdi>{}</bdi></p>\n",
                page.text(heading),
                display_text(text)
            ));
        }
    }

    let link = certificates::public_link(state, &certificate.share_token);
    main.push_str(&sharing_section(&page, &certificate, &name, shared, &link));
    main.push_str(&format!(
        "<p class=\"actions\"><a class=\"button\" href=\"/certificates/{encoded}.pdf\" download>{pdf}</a>\n\
         <a class=\"button secondary\" href=\"/certificates/{encoded}.json\" download>{json}</a></p>\n",
        pdf = page.text("wallet.download_pdf"),
        json = page.text("wallet.download_json"),
    ));
    Ok(page.render(StatusCode::OK, &display_text(&name), &main))
}

/// Renders the QR code and public link when sharing is on, the switch, and
/// the LinkedIn link.
fn sharing_section(
    page: &Page,
    certificate: &Owned,
    name: &str,
    shared: bool,
    link: &str,
) -> String {
    let encoded = encode_id(&certificate.id);
    let mut html = format!(
        "<section class=\"card\" aria-labelledby=\"sharing\">\n<h2 id=\"sharing\">{}</h2>\n",
        page.text("sharing.heading")
    );
    let (explanation, button, next) = if shared {
        ("sharing.on", "sharing.turn_off", "off")
    } else {
        ("sharing.off", "sharing.turn_on", "on")
    };
    html.push_str(&format!("<p>{}</p>\n", page.text(explanation)));
    if shared {
        html.push_str(&qr_figure(page, &encoded));
        html.push_str(&format!(
            "<p><a class=\"button\" href=\"/certificates/{encoded}/qr\">{show}</a></p>\n\
             <p>{label}: <a href=\"{link}\" dir=\"ltr\" class=\"public-link\">{link}</a></p>\n",
            show = page.text("detail.show_qr"),
            label = page.text("sharing.link"),
            link = escape_html(link),
        ));
        let issued = certificate
            .string("validFrom")
            .and_then(|date| credentials::datetime::parse(date).ok());
        if let Some(issued) = issued {
            let organization = certificate.text("/issuer/name");
            let organization = organization.pick(page.language).unwrap_or_default();
            // LinkedIn shows these texts too, so they leave without hidden
            // controls.
            let linkedin = sharing::linkedin_link(&LinkedInCertification {
                name: &remove_hidden_controls(name),
                organization: &remove_hidden_controls(organization),
                issued,
                valid_until: certificate
                    .string("validUntil")
                    .and_then(|date| credentials::datetime::parse(date).ok()),
                url: link,
                credential_id: &certificate.id,
            });
            html.push_str(&format!(
                "<p><a class=\"button secondary\" href=\"{}\" rel=\"noopener noreferrer\">{}</a></p>\n",
                escape_html(&linkedin),
                page.text("sharing.linkedin"),
            ));
        }
    }
    html.push_str(&format!(
        "<form method=\"post\" action=\"/certificates/{encoded}/sharing\">\n\
         <input type=\"hidden\" name=\"shared\" value=\"{next}\">\n\
         <button type=\"submit\" class=\"secondary\">{button}</button>\n</form>\n</section>\n",
        button = page.text(button),
    ));
    html
}

#[derive(Deserialize)]
pub struct SharingForm {
    #[serde(default)]
    shared: String,
}

/// `POST /certificates/{id}/sharing`: turns the public link on or off.
pub async fn set_sharing(
    State(state): State<WalletState>,
    SignedIn(member): SignedIn,
    Path(id): Path<String>,
    form: Result<Form<SharingForm>, FormRejection>,
) -> Result<Response, WalletError> {
    let Form(form) = form?;
    let shared = match form.shared.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(WalletError::InvalidForm),
    };
    let certificate = load_owned(&state, member.as_ref(), &id).await?;
    sharing::set_shared(&state.db, &certificate.id, shared, Utc::now()).await?;
    if let Some(member) = &member {
        tracing::info!(member = %member.id, credential = %certificate.id, shared, "public link switched");
    }
    Ok(Redirect::to(&format!("/certificates/{}", encode_id(&id))).into_response())
}

/// `GET /certificates/{id}/qr`: the QR code alone on a white page, as
/// large as the screen, for showing to someone in person.
pub async fn full_screen_qr(
    State(state): State<WalletState>,
    language: Language,
    SignedIn(member): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WalletError> {
    let certificate = load_owned(&state, member.as_ref(), &id).await?;
    if !sharing::is_shared(&state.db, &id).await? {
        return Err(WalletError::NotFound);
    }
    let encoded = encode_id(&id);
    let texts = &state.texts;
    let text = |key: &str| texts.text(language.0, key, &[]);
    let name = certificate
        .text("/name")
        .pick(language.0)
        .unwrap_or_default()
        .to_owned();
    let html = format!(
        "<!doctype html>\n<html lang=\"{language}\" dir=\"{direction}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"theme-color\" content=\"#ffffff\">\n\
         <title>{heading}</title>\n<style>{FULL_SCREEN_STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>{heading}</h1>\n<p class=\"name\"><bdi>{name}</bdi></p>\n\
         <img src=\"/certificates/{encoded}/qr.svg\" alt=\"{alt}\">\n\
         <p><a href=\"/certificates/{encoded}\">{close}</a></p>\n</main>\n</body>\n</html>\n",
        language = language.0,
        direction = direction(language.0),
        heading = text("qr.heading"),
        name = display_text(&name),
        alt = text("wallet.qr_alt"),
        close = text("qr.close"),
    );
    Ok((StatusCode::OK, Html(html)).into_response())
}

/// White and black only, the code as wide as the screen allows: phones
/// scan best a large, high-contrast code.
const FULL_SCREEN_STYLE: &str = r#"
*{box-sizing:border-box}
html,body{margin:0;background:#fff;color:#000}
body{font:1.1rem/1.4 system-ui,"Noto Sans","Noto Sans Arabic","Noto Sans Tifinagh",sans-serif}
main{min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:.5rem;text-align:center}
h1{font-size:1.3rem;margin:.25rem 0}
.name{margin:0 0 .5rem;font-weight:600}
img{width:min(96vw,80vh);height:auto;image-rendering:pixelated}
a{display:inline-block;min-height:48px;min-width:48px;padding:.75rem 1.5rem;color:#000;font-weight:700}
"#;

/// `GET /certificates/{id}.pdf`: the printable certificate.
async fn printable(
    state: &WalletState,
    member: Option<&Member>,
    id: &str,
) -> Result<Response, WalletError> {
    let certificate = load_owned(state, member, id).await?;
    let member = member.ok_or(WalletError::NotFound)?;
    let (cooperative_ar, cooperative_latin): (String, String) =
        sqlx::query_as("SELECT name_ar, name_latin FROM cooperatives WHERE id = $1")
            .bind(&member.cooperative_id)
            .fetch_one(&state.db)
            .await?;
    let issued = certificate
        .string("validFrom")
        .and_then(|date| credentials::datetime::parse(date).ok())
        .unwrap_or_else(Utc::now);
    let academy = certificate.text("/issuer/name");
    let achievement = certificate.text("/credentialSubject/achievement/name");
    let pick =
        |text: &LocalizedText, language: &str| text.0.get(language).cloned().unwrap_or_default();
    let file_name = certificates::file_name(id);
    let printed = PrintedCertificate {
        academy_fr: academy.pick("fr").unwrap_or_default().to_owned(),
        academy_ar: pick(&academy, "ar"),
        cooperative_latin,
        cooperative_ar,
        member_latin: member.name_latin.clone(),
        member_ar: member.name_ar.clone(),
        achievement_fr: achievement.pick("fr").unwrap_or_default().to_owned(),
        achievement_ar: pick(&achievement, "ar"),
        achievement_zgh: pick(&achievement, "zgh"),
        date: issued.format("%Y-%m-%d").to_string(),
        issued,
        link: certificates::qr_link(state, &certificate.id, &certificate.share_token).await?,
        credential_id: certificate.id.clone(),
        credential_json: certificate.document.clone(),
        file_name: file_name.clone(),
    };

    // Fonts and shaping take a few milliseconds of CPU, off the async
    // threads.
    let fonts = state.fonts.clone();
    let texts = state.plain_texts.clone();
    let bytes = tokio::task::spawn_blocking(move || pdf::render(&fonts, &texts, &printed))
        .await
        .map_err(anyhow::Error::from)??;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(".json", ".pdf")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
