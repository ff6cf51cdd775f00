//! "My cooperative": a manager reads the certificates of the members of
//! their own cooperative. The page offers no change, no file and no link
//! to another member's certificate. Members who are not managers, and
//! managers asking for another cooperative, get nothing: the page only
//! ever shows the signed-in manager's cooperative.

use crate::certificates::time;
use crate::error::WalletError;
use crate::language::Language;
use crate::pages::{display_text, Page};
use crate::session::SignedIn;
use crate::status;
use crate::WalletState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use credentials::LocalizedText;
use serde_json::Value;

/// A member of the cooperative and the certificates they hold.
struct MemberCertificates {
    name_ar: String,
    name_latin: String,
    certificates: Vec<Row>,
}

struct Row {
    name: LocalizedText,
    valid_from: Option<String>,
    status: status::Status,
}

/// `GET /cooperative`: the certificates of the manager's cooperative.
pub async fn list(
    State(state): State<WalletState>,
    language: Language,
    SignedIn(member): SignedIn,
) -> Result<Response, WalletError> {
    let Some(member) = member else {
        return Ok(Redirect::to("/").into_response());
    };
    if !member.is_manager {
        return Err(WalletError::NotFound);
    }
    let (name_ar, name_latin): (String, String) =
        sqlx::query_as("SELECT name_ar, name_latin FROM cooperatives WHERE id = $1")
            .bind(&member.cooperative_id)
            .fetch_one(&state.db)
            .await?;
    let members = load_members(&state, &member.cooperative_id).await?;

    let page = Page {
        texts: &state.texts,
        language: language.0,
        path: "/cooperative",
        signed_in: true,
    };
    let cooperative = if page.language == "ar" {
        format!("<bdi lang=\"ar\">{}</bdi>", display_text(&name_ar))
    } else {
        format!("<bdi>{}</bdi>", display_text(&name_latin))
    };
    let mut main = format!(
        "<p><a href=\"/certificates\">{back}</a></p>\n<h1>{heading}</h1>\n<p>{intro}</p>\n",
        back = page.text("detail.back"),
        heading = page.text("coop.heading"),
        intro = page.text_with_html("coop.intro", &[("cooperative", &cooperative)]),
    );
    for member in &members {
        main.push_str(&render_member(&page, member));
    }
    tracing::info!(manager = %member.id, "cooperative certificates read");
    Ok(page.render(StatusCode::OK, &page.text("coop.heading"), &main))
}

/// A member and one of their credentials, if any: member id, Arabic name,
/// Latin name, credential id, document, end of validity.
type MemberCredentialRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn load_members(
    state: &WalletState,
    cooperative_id: &str,
) -> Result<Vec<MemberCertificates>, WalletError> {
    let rows: Vec<MemberCredentialRow> = sqlx::query_as(
        "SELECT m.id, m.name_ar, m.name_latin, c.id, c.document, c.valid_until
             FROM members m LEFT JOIN credentials c ON c.member_id = m.id
             WHERE m.cooperative_id = $1
             ORDER BY m.name_latin, m.id, c.issued_at DESC, c.id",
    )
    .bind(cooperative_id)
    .fetch_all(&state.db)
    .await?;
    let now = Utc::now();
    let mut members: Vec<(String, MemberCertificates)> = Vec::new();
    for (member_id, name_ar, name_latin, credential_id, document, valid_until) in rows {
        if members.last().is_none_or(|(id, _)| *id != member_id) {
            members.push((
                member_id.clone(),
                MemberCertificates {
                    name_ar,
                    name_latin,
                    certificates: Vec::new(),
                },
            ));
        }
        let (Some(credential_id), Some(document)) = (credential_id, document) else {
            continue;
        };
        let document: Value = serde_json::from_str(&document).unwrap_or(Value::Null);
        let status =
            status::current(&state.db, &credential_id, valid_until.as_deref(), now).await?;
        if let Some((_, member)) = members.last_mut() {
            member.certificates.push(Row {
                name: LocalizedText::from_json(document.get("name")),
                valid_from: document
                    .get("validFrom")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                status,
            });
        }
    }
    Ok(members.into_iter().map(|(_, member)| member).collect())
}

fn render_member(page: &Page, member: &MemberCertificates) -> String {
    let mut html = format!(
        "<section class=\"card\">\n<h2><bdi lang=\"ar-Latn\">{latin}</bdi> · <bdi lang=\"ar\">{arabic}</bdi></h2>\n",
        latin = display_text(&member.name_latin),
        arabic = display_text(&member.name_ar),
    );
    if member.certificates.is_empty() {
        html.push_str(&format!("<p>{}</p>\n", page.text("coop.no_certificates")));
        html.push_str("</section>\n");
        return html;
    }
    html.push_str("<ul class=\"plain\">\n");
    for certificate in &member.certificates {
        let name = certificate.name.pick(page.language).unwrap_or_default();
        let date = certificate
            .valid_from
            .as_deref()
            .map(|date| page.text_with_html("wallet.issued_on", &[("date", &time(date))]))
            .unwrap_or_default();
        let status_name = page.text(certificate.status.text_key());
        html.push_str(&format!(
            "<li><bdi>{name}</bdi><br>{date} · <span class=\"status {class}\">{status}</span></li>\n",
            name = display_text(name),
            class = certificate.status.css_class(),
            status = page.text_with_html("status.label", &[("status", &status_name)]),
        ));
    }
    html.push_str("</ul>\n</section>\n");
    html
}
