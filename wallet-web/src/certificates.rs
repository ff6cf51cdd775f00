//! "My certificates": the signed-in member's credentials, their QR codes
//! and their files.
//!
//! A credential belongs to the member whose id its `credentials.member_id`
//! holds. Anyone else, signed in or not, gets 404 for it, so that a
//! visitor cannot tell which credential ids exist.

use crate::error::WalletError;
use crate::language::Language;
use crate::pages::{display_text, Page};
use crate::session::{Member, SignedIn};
use crate::WalletState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use credentials::i18n::escape_html;
use credentials::{qr, LocalizedText};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Characters left as they are in a credential id placed in a URL path:
/// letters, digits and `-`. The `:` of `urn:uuid:` is encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-');

/// Pixels per QR module of the PNG rendering.
const QR_PNG_MODULE_PIXELS: u32 = 8;

/// One of the member's credentials, as the page shows it.
struct Certificate {
    id: String,
    kind: String,
    achievement_id: Option<String>,
    name: LocalizedText,
    valid_from: Option<String>,
    valid_until: Option<String>,
    /// Whether the public link works, so that the QR code leads somewhere.
    shared: bool,
}

/// The catalogue's learning paths: titles and modules in path order.
struct Paths {
    titles: BTreeMap<String, LocalizedText>,
    modules: BTreeMap<String, Vec<String>>,
}

/// `GET /certificates`: the member's certificates, paths first.
pub async fn list(
    State(state): State<WalletState>,
    language: Language,
    SignedIn(member): SignedIn,
) -> Result<Response, WalletError> {
    let Some(member) = member else {
        return Ok(Redirect::to("/").into_response());
    };
    let certificates = load_certificates(&state, &member.id).await?;
    let paths = load_paths(&state).await?;
    let page = Page {
        texts: &state.texts,
        language: language.0,
        path: "/certificates",
        signed_in: true,
    };
    let mut main = render_wallet(&page, &member, &certificates, &paths);
    main.push_str(&format!(
        "<p class=\"hint\">{}</p>\n",
        page.text("wallet.refresh_hint")
    ));
    if member.is_manager {
        main.push_str(&format!(
            "<p><a class=\"button\" href=\"/cooperative\">{}</a></p>\n",
            page.text("wallet.cooperative_link")
        ));
    }
    Ok(page.render(StatusCode::OK, &page.text("wallet.heading"), &main))
}

/// `GET /certificates/{id}.json`: the stored credential, byte for byte.
pub async fn download(
    State(state): State<WalletState>,
    SignedIn(member): SignedIn,
    Path(file): Path<String>,
) -> Result<Response, WalletError> {
    let id = file.strip_suffix(".json").ok_or(WalletError::NotFound)?;
    let (document, _) = owned_credential(&state, member.as_ref(), id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file_name(id));
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        document,
    )
        .into_response())
}

/// `GET /certificates/{id}/qr.svg`: the QR code of the verification link.
pub async fn qr_svg(
    State(state): State<WalletState>,
    SignedIn(member): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WalletError> {
    let link = owned_link(&state, member.as_ref(), &id).await?;
    let svg = qr::svg(&link).map_err(anyhow::Error::from)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// `GET /certificates/{id}/qr.png`: the same QR code as a PNG, for
/// printing or sending as a picture.
pub async fn qr_png(
    State(state): State<WalletState>,
    SignedIn(member): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WalletError> {
    let link = owned_link(&state, member.as_ref(), &id).await?;
    let png = qr::png(&link, QR_PNG_MODULE_PIXELS).map_err(anyhow::Error::from)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Builds the link of the public verifier page that the QR code of
/// credential `id` opens, with its compact form when the code stays small
/// enough, if `member` owns the credential.
async fn owned_link(
    state: &WalletState,
    member: Option<&Member>,
    id: &str,
) -> Result<String, WalletError> {
    let (_, share_token) = owned_credential(state, member, id).await?;
    qr_link(state, id, &share_token).await
}

/// Builds the link of the public page of a shared credential, as people
/// read, copy and paste it: without the compact form.
pub(crate) fn public_link(state: &WalletState, share_token: &str) -> String {
    credentials::compact::verification_link(&state.config.verifier_url, share_token, None, 0)
}

/// Builds the link the QR code of credential `id` opens, with its compact
/// form when the code stays small enough; the full-screen QR code and the
/// PDF use it too.
pub(crate) async fn qr_link(
    state: &WalletState,
    id: &str,
    share_token: &str,
) -> Result<String, WalletError> {
    let compact: Option<(String,)> =
        sqlx::query_as("SELECT compact FROM credential_compact_forms WHERE credential_id = $1")
            .bind(id)
            .fetch_optional(&state.db)
            .await?;
    Ok(credentials::compact::verification_link(
        &state.config.verifier_url,
        share_token,
        compact.as_ref().map(|(compact,)| compact.as_str()),
        state.config.qr_max_version,
    ))
}

/// Loads the document and share token of credential `id` if `member`
/// owns it.
pub(crate) async fn owned_credential(
    state: &WalletState,
    member: Option<&Member>,
    id: &str,
) -> Result<(String, String), WalletError> {
    let member = member.ok_or(WalletError::NotFound)?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT document, share_token FROM credentials WHERE id = $1 AND member_id = $2",
    )
    .bind(id)
    .bind(&member.id)
    .fetch_optional(&state.db)
    .await?;
    row.ok_or(WalletError::NotFound)
}

/// Names the downloaded file `certificate-<uuid>.json` for `urn:uuid:<uuid>`.
/// Characters other than letters, digits and `-` are dropped so that the
/// header stays well formed.
pub(crate) fn file_name(id: &str) -> String {
    let stem: String = id
        .strip_prefix("urn:uuid:")
        .unwrap_or(id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("certificate-{stem}.json")
}

async fn load_certificates(
    state: &WalletState,
    member_id: &str,
) -> Result<Vec<Certificate>, WalletError> {
    let rows: Vec<(String, String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.kind, c.achievement_id, c.document, COALESCE(s.shared, 1)
         FROM credentials c LEFT JOIN credential_sharing s ON s.credential_id = c.id
         WHERE c.member_id = $1
           AND NOT EXISTS (SELECT 1 FROM superseded_credentials x WHERE x.credential_id = c.id)
         ORDER BY c.issued_at DESC, c.id",
    )
    .bind(member_id)
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, achievement_id, document, shared)| {
            let document: Value = serde_json::from_str(&document).unwrap_or_else(|error| {
                tracing::error!(credential = %id, %error, "stored credential is not JSON");
                Value::Null
            });
            let text = |name: &str| {
                document
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            Certificate {
                name: LocalizedText::from_json(document.get("name")),
                valid_from: text("validFrom"),
                valid_until: text("validUntil"),
                id,
                kind,
                achievement_id,
                shared: shared == 1,
            }
        })
        .collect())
}

async fn load_paths(state: &WalletState) -> Result<Paths, WalletError> {
    let titles: Vec<(String, String)> = sqlx::query_as("SELECT id, title FROM paths")
        .fetch_all(&state.db)
        .await?;
    let members: Vec<(String, String)> =
        sqlx::query_as("SELECT path_id, module_id FROM path_modules ORDER BY path_id, position")
            .fetch_all(&state.db)
            .await?;
    let mut modules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path_id, module_id) in members {
        modules.entry(path_id).or_default().push(module_id);
    }
    Ok(Paths {
        titles: titles
            .into_iter()
            .map(|(id, title)| (id, serde_json::from_str(&title).unwrap_or_default()))
            .collect(),
        modules,
    })
}

/// Renders the page body: greeting, completed paths with their modules, paths in
/// progress, then modules that belong to no completed path.
fn render_wallet(
    page: &Page,
    member: &Member,
    certificates: &[Certificate],
    paths: &Paths,
) -> String {
    let mut html = format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        page.text("wallet.heading"),
        page.text_with_html("wallet.greeting", &[("name", &member_name(page, member))]),
    );
    if certificates.is_empty() {
        html.push_str(&format!(
            "<p class=\"notice\">{}</p>\n",
            page.text("wallet.empty")
        ));
        return html;
    }

    let completed: Vec<&Certificate> = certificates.iter().filter(|c| c.kind == "path").collect();
    let modules: Vec<&Certificate> = certificates.iter().filter(|c| c.kind != "path").collect();
    let completed_ids: HashSet<&str> = completed
        .iter()
        .filter_map(|c| c.achievement_id.as_deref())
        .collect();

    if !completed.is_empty() {
        html.push_str(&format!("<h2>{}</h2>\n", page.text("wallet.paths")));
        for path in &completed {
            html.push_str("<section>\n");
            html.push_str(&card(page, path));
            let path_modules = path
                .achievement_id
                .as_ref()
                .and_then(|id| paths.modules.get(id));
            let in_path = modules_in_order(
                &modules,
                path_modules.map(Vec::as_slice).unwrap_or_default(),
            );
            if !in_path.is_empty() {
                html.push_str(&format!(
                    "<div class=\"path-modules\">\n<h3>{}</h3>\n",
                    page.text("wallet.path_modules")
                ));
                for module in in_path {
                    html.push_str(&card(page, module));
                }
                html.push_str("</div>\n");
            }
            html.push_str("</section>\n");
        }
    }

    html.push_str(&progress(page, &modules, &completed_ids, paths));

    let in_completed_path: HashSet<&str> = completed_ids
        .iter()
        .filter_map(|id| paths.modules.get(*id))
        .flatten()
        .map(String::as_str)
        .collect();
    let loose: Vec<&Certificate> = modules
        .iter()
        .copied()
        .filter(|c| {
            c.achievement_id
                .as_deref()
                .is_none_or(|id| !in_completed_path.contains(id))
        })
        .collect();
    if !loose.is_empty() {
        html.push_str(&format!("<h2>{}</h2>\n", page.text("wallet.modules")));
        for module in loose {
            html.push_str(&card(page, module));
        }
    }
    html
}

/// Selects the module certificates of `order`'s modules, in that order.
fn modules_in_order<'a>(modules: &[&'a Certificate], order: &[String]) -> Vec<&'a Certificate> {
    order
        .iter()
        .flat_map(|module_id| {
            modules
                .iter()
                .copied()
                .filter(move |c| c.achievement_id.as_deref() == Some(module_id.as_str()))
        })
        .collect()
}

/// Renders the paths the member started but has not completed, with how many of their
/// modules are done.
fn progress(
    page: &Page,
    modules: &[&Certificate],
    completed: &HashSet<&str>,
    paths: &Paths,
) -> String {
    let earned: HashSet<&str> = modules
        .iter()
        .filter_map(|c| c.achievement_id.as_deref())
        .collect();
    let mut items = String::new();
    for (path_id, path_modules) in &paths.modules {
        let done = path_modules
            .iter()
            .filter(|m| earned.contains(m.as_str()))
            .count();
        if done == 0 || completed.contains(path_id.as_str()) {
            continue;
        }
        let total = path_modules.len();
        let title = paths
            .titles
            .get(path_id)
            .and_then(|t| t.pick(page.language))
            .unwrap_or(path_id);
        let (done_text, total_text) = (done.to_string(), total.to_string());
        let count = page.texts.text(
            page.language,
            "wallet.progress",
            &[("done", &done_text), ("total", &total_text)],
        );
        items.push_str(&format!(
            "<section class=\"card\">\n<h3>{title}</h3>\n<p>{count}</p>\n\
             <progress value=\"{done}\" max=\"{total}\">{count}</progress>\n</section>\n",
            title = display_text(title),
        ));
    }
    if items.is_empty() {
        return items;
    }
    format!("<h2>{}</h2>\n{items}", page.text("wallet.in_progress"))
}

/// Renders the member's name in the script of the page: Arabic script on Arabic
/// pages, Latin script elsewhere.
fn member_name(page: &Page, member: &Member) -> String {
    let (name, language) = if page.language == "ar" {
        (&member.name_ar, "ar")
    } else {
        (&member.name_latin, "ar-Latn")
    };
    format!("<bdi lang=\"{language}\">{}</bdi>", display_text(name))
}

/// Renders one certificate: its names, dates, QR code and download link.
fn card(page: &Page, certificate: &Certificate) -> String {
    let fallback = certificate
        .achievement_id
        .as_deref()
        .unwrap_or(&certificate.id);
    let name = certificate.name.pick(page.language).unwrap_or(fallback);
    let mut html = format!(
        "<article class=\"card\">\n<h3><bdi>{}</bdi></h3>\n{}",
        display_text(name),
        other_names(page, &certificate.name, name)
    );
    if let Some(date) = certificate.valid_from.as_deref() {
        html.push_str(&format!(
            "<p>{}</p>\n",
            page.text_with_html("wallet.issued_on", &[("date", &time(date))])
        ));
    }
    html.push_str(&validity(page, certificate.valid_until.as_deref()));

    let encoded = encode_id(&certificate.id);
    if certificate.shared {
        html.push_str(&qr_figure(page, &encoded));
    } else {
        html.push_str(&format!(
            "<p class=\"notice\">{}</p>\n",
            page.text("sharing.off")
        ));
    }
    html.push_str(&format!(
        "<p class=\"actions\"><a class=\"button\" href=\"/certificates/{encoded}\">{details}</a>\n\
         <a class=\"button secondary\" href=\"/certificates/{encoded}.pdf\" download>{pdf}</a>\n\
         <a class=\"button secondary\" href=\"/certificates/{encoded}.json\" download>{download}</a></p>\n</article>\n",
        details = page.text("wallet.details"),
        pdf = page.text("wallet.download_pdf"),
        download = page.text("wallet.download_json"),
    ));
    html
}

/// Encodes a credential id as one URL path segment.
pub(crate) fn encode_id(id: &str) -> String {
    utf8_percent_encode(id, PATH_SEGMENT).to_string()
}

/// Renders the QR code image of the credential whose encoded id is
/// `encoded`, with the hint for the member.
pub(crate) fn qr_figure(page: &Page, encoded: &str) -> String {
    format!(
        "<figure class=\"qr\">\n<img src=\"/certificates/{encoded}/qr.svg\" alt=\"{alt}\" width=\"256\" height=\"256\">\n\
         <figcaption>{hint}</figcaption>\n</figure>\n",
        alt = page.text("wallet.qr_alt"),
        hint = page.text("wallet.qr_hint"),
    )
}

/// Renders the Arabic and French names when they differ from the heading, each
/// marked with its language so it displays in its own direction.
pub(crate) fn other_names(page: &Page, names: &LocalizedText, shown: &str) -> String {
    let others: Vec<String> = ["ar", "fr"]
        .into_iter()
        .filter(|language| *language != page.language)
        .filter_map(|language| {
            let text = names.0.get(language)?;
            (text != shown)
                .then(|| format!("<bdi lang=\"{language}\">{}</bdi>", display_text(text)))
        })
        .collect();
    if others.is_empty() {
        return String::new();
    }
    format!("<p class=\"names\">{}</p>\n", others.join(" · "))
}

/// Renders the validity line: the end date, "expired" once past it, or
/// no end.
pub(crate) fn validity(page: &Page, valid_until: Option<&str>) -> String {
    let Some(until) = valid_until else {
        return format!("<p>{}</p>\n", page.text("wallet.no_expiry"));
    };
    let expired = credentials::datetime::parse(until).is_ok_and(|instant| instant < Utc::now());
    if expired {
        return format!(
            "<p class=\"expired\">{}</p>\n",
            page.text_with_html("wallet.expired_on", &[("date", &time(until))])
        );
    }
    format!(
        "<p>{}</p>\n",
        page.text_with_html("wallet.valid_until", &[("date", &time(until))])
    )
}

/// Renders a `<time>` element showing the calendar date of an
/// `xsd:dateTime`.
/// Dates are written `YYYY-MM-DD` in every language.
pub(crate) fn time(date_time: &str) -> String {
    let date = date_time.split('T').next().unwrap_or(date_time);
    format!(
        "<time datetime=\"{}\" dir=\"ltr\">{}</time>",
        escape_html(date_time),
        escape_html(date)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_id_is_encoded_for_paths() {
        let encoded = utf8_percent_encode("urn:uuid:0b5c-1f", PATH_SEGMENT).to_string();
        assert_eq!(encoded, "urn%3Auuid%3A0b5c-1f");
    }

    #[test]
    fn file_name_keeps_only_safe_characters() {
        assert_eq!(file_name("urn:uuid:0b5c-1f"), "certificate-0b5c-1f.json");
        assert_eq!(file_name("urn:x:\"; evil"), "certificate-urnxevil.json");
    }
}
