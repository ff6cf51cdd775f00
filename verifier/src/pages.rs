//! The pages a non-technical person uses: check a pasted or uploaded
//! certificate, and the public page a certificate's QR code opens.
//!
//! Pages are rendered on the server and need no JavaScript, so they work
//! on old phones and slow connections. Every text comes from the
//! translation files; every value from a credential is HTML-escaped.

use crate::VerifierState;
use axum::extract::{FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use credentials::i18n::{self, escape_html, remove_hidden_controls, show_hidden_controls};
use credentials::problem::declared_length;
use credentials::verify::{Outcome, Report, Summary};
use serde_json::Value;

/// Largest certificate file accepted from the form, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024;

/// Largest body of `POST /check`, in bytes: one file and the form's
/// boundaries and headers.
pub const MAX_CHECK_BODY_BYTES: usize = MAX_UPLOAD_BYTES + 4096;

pub fn router() -> Router<VerifierState> {
    Router::new()
        .route("/", get(home))
        .route("/check", post(check))
        .route("/v/{token}", get(shared))
        // QR codes write the path in capitals (`credentials::compact`).
        .route("/V/{token}", get(shared))
        .route("/offline", get(offline_shell))
        .route("/health", get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CHECK_BODY_BYTES))
}

/// The first value of the `lang` parameter of a page's query string. Its
/// extractor's rejection is `Infallible`, so a repeated parameter still
/// gets a page.
#[derive(Default)]
pub(crate) struct LanguageQuery {
    lang: Option<String>,
}

impl LanguageQuery {
    pub(crate) fn from_uri(uri: &Uri) -> Self {
        let lang = uri.query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("lang="))
                .map(str::to_owned)
        });
        Self { lang }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LanguageQuery {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_uri(&parts.uri))
    }
}

/// Picks the page language: `?lang=`, then the `lang` cookie, then the browser.
pub(crate) fn language(query: &LanguageQuery, headers: &HeaderMap) -> &'static str {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            cookies
                .split(';')
                .find_map(|c| c.trim().strip_prefix("lang=").map(str::to_owned))
        });
    let explicit = query.lang.clone().or(cookie);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::negotiate(explicit.as_deref(), accept)
}

/// A rendered page, with the language cookie set when the reader chose one.
pub(crate) struct Page {
    language: &'static str,
    remember_language: bool,
    status: StatusCode,
    body: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(self.body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.remember_language {
            if let Ok(cookie) = HeaderValue::from_str(&format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                self.language
            )) {
                headers.insert(header::SET_COOKIE, cookie);
            }
        }
        response
    }
}

struct Layout<'a> {
    state: &'a VerifierState,
    language: &'static str,
    path: &'a str,
}

impl Layout<'_> {
    fn t(&self, key: &str) -> String {
        self.state.translations.text(self.language, key, &[])
    }

    fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.state.translations.text(self.language, key, args)
    }

    fn render(&self, title: &str, content: &str) -> String {
        let switch: String = i18n::LANGUAGES
            .iter()
            .map(|code| {
                let name = self.state.translations.text(code, "language.name", &[]);
                let current = if *code == self.language { " aria-current=\"true\"" } else { "" };
                format!(
                    "<a href=\"{}?lang={code}\" lang=\"{code}\" hreflang=\"{code}\"{current}>{name}</a>",
                    escape_html(self.path)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            r#"<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
<link rel="manifest" href="/manifest.webmanifest">
<script src="/static/verifier.js" defer></script>
</head>
<body>
<header><p class="app">{app}</p><nav aria-label="{switch_label}">{switch}</nav></header>
<main>
{content}
</main>
</body>
</html>
"#,
            lang = self.language,
            dir = i18n::direction(self.language),
            app = self.t("app.name"),
            switch_label = self.t("language.switch"),
        )
    }
}

const STYLE: &str = "
body{font-family:system-ui,'Noto Sans','Noto Sans Arabic','Noto Sans Tifinagh',sans-serif;margin:0;background:#f6f6f3;color:#1b1b1b;font-size:18px;line-height:1.5}
header{background:#0b4f3c;color:#fff;padding:.6rem 1rem}
header .app{margin:0;font-weight:bold}
nav a{color:#fff;margin-inline-end:.8rem;display:inline-block;padding:.3rem 0}
nav a[aria-current]{text-decoration:none;font-weight:bold;border-bottom:3px solid #fff}
main{max-width:40rem;margin:0 auto;padding:1rem}
.verdict{border-radius:.6rem;padding:1rem 1.2rem;margin:1rem 0;border:3px solid}
.verdict h1{margin:0 0 .4rem;font-size:1.6rem}
.verdict .symbol{font-size:2.4rem;line-height:1}
.good{background:#e3f4e8;border-color:#1e7b3a;color:#0d3d1c}
.warn{background:#fff4d6;border-color:#a86b00;color:#4a3000}
.bad{background:#fde4e1;border-color:#b3261e;color:#5c0f0a}
.unknown{background:#e9e9ef;border-color:#555;color:#222}
dl{background:#fff;border-radius:.6rem;padding:1rem 1.2rem;margin:0}
dt{font-weight:bold;margin-top:.6rem}
dd{margin:0}
textarea{width:100%;min-height:8rem;font:inherit;font-size:16px;box-sizing:border-box}
input[type=file]{font:inherit;margin:.6rem 0}
button,.button{font:inherit;background:#0b4f3c;color:#fff;border:0;border-radius:.4rem;padding:.8rem 1.2rem;min-height:48px;cursor:pointer;text-decoration:none;display:inline-block}
.error{background:#fde4e1;border-inline-start:6px solid #b3261e;padding:.6rem 1rem}
details{margin-top:1.2rem;font-size:.9rem}
.note{background:#fff;border-inline-start:6px solid #1e7b3a;padding:.6rem 1rem}
video{width:100%;max-width:30rem;display:block}
";

async fn home(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    headers: HeaderMap,
) -> Page {
    let language = language(&query, &headers);
    let layout = Layout {
        state: &state,
        language,
        path: "/",
    };
    let body = layout.render(&layout.t("home.heading"), &check_form(&layout, None));
    Page {
        language,
        remember_language: query.lang.is_some(),
        status: StatusCode::OK,
        body,
    }
}

/// Responds to a path no route serves with 404, through [`no_route`].
pub(crate) async fn not_found(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    no_route(&state, StatusCode::NOT_FOUND, &query, &uri, &headers)
}

/// Responds to a method the path does not take, such as `GET /check`,
/// with 405, through [`no_route`].
pub(crate) async fn method_not_allowed(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    no_route(
        &state,
        StatusCode::METHOD_NOT_ALLOWED,
        &query,
        &uri,
        &headers,
    )
}

/// Builds problem details under the API's paths, else the home page with
/// one sentence.
fn no_route(
    state: &VerifierState,
    status: StatusCode,
    query: &LanguageQuery,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let path = uri.path();
    tracing::info!(%path, %status, "request for a path or method no route serves");
    if path.starts_with("/credentials/") || path.starts_with("/presentations/") {
        let detail =
            format!("{path} does not take this method, or is not an endpoint of this verifier");
        return credentials::problem::ApiProblem::new(status, detail).into_response();
    }
    home_with_error(state, language(query, headers), status, "error.no_page").into_response()
}

/// The home page with one sentence saying what went wrong.
pub(crate) fn home_with_error(
    state: &VerifierState,
    language: &'static str,
    status: StatusCode,
    key: &str,
) -> Page {
    let layout = Layout {
        state,
        language,
        path: "/",
    };
    Page {
        language,
        remember_language: false,
        status,
        body: layout.render(&layout.t("home.heading"), &check_form(&layout, Some(key))),
    }
}

/// `GET /offline`: the page the service worker shows for `/v/{token}` when
/// the phone has no connection. Its script checks the link's compact form
/// against the offline bundle and fills in the verdict.
async fn offline_shell(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    headers: HeaderMap,
) -> Page {
    let language = language(&query, &headers);
    let layout = Layout {
        state: &state,
        language,
        path: "/",
    };
    // The texts of this language travel with the page, for a phone that
    // has the page but not yet the bundle. `<` is escaped so that no text
    // can close the script element.
    let texts = crate::TRANSLATION_SOURCES
        .iter()
        .find(|(code, _)| *code == language)
        .map(|(_, source)| source.replace('<', "\\u003c"))
        .unwrap_or_default();
    let content = format!(
        "<script type=\"application/json\" id=\"page-texts\">{texts}</script><div id=\"offline-verdict\"><section class=\"verdict unknown\" role=\"status\"><div class=\"symbol\" aria-hidden=\"true\">?</div><h1>{}</h1><p>{}</p></section></div><p><a class=\"button\" href=\"/\">{}</a></p>",
        layout.t("offline.checking"),
        layout.t("offline.needs_script"),
        layout.t("action.check_another"),
    );
    Page {
        language,
        remember_language: false,
        status: StatusCode::OK,
        body: layout.render(&layout.t("offline.checking"), &content),
    }
}

fn check_form(layout: &Layout<'_>, error: Option<&str>) -> String {
    let error = error
        .map(|key| format!("<p class=\"error\" role=\"alert\">{}</p>", layout.t(key)))
        .unwrap_or_default();
    format!(
        r#"<h1>{heading}</h1>
<p>{intro}</p>
{error}
<form method="post" action="/check?lang={lang}" enctype="multipart/form-data">
<p><label for="credential">{paste}</label><br>
<textarea id="credential" name="credential" dir="ltr" spellcheck="false"></textarea></p>
<p><label for="file">{file}</label><br>
<input id="file" name="file" type="file" accept=".json,application/json,application/ld+json,application/vc+ld+json"></p>
<p><button type="submit">{submit}</button></p>
</form>
<section id="scan" aria-labelledby="scan-heading">
<h2 id="scan-heading">{scan_heading}</h2>
<div id="camera" hidden data-looking="{scan_looking}" data-no-camera="{scan_no_camera}" data-not-link="{scan_not_link}"><p><button type="button" id="scan-start">{scan_start}</button></p>
<video id="scan-video" muted playsinline hidden></video><p id="scan-status" role="status"></p></div>
<form method="post" action="/scan/photo?lang={lang}" enctype="multipart/form-data">
<p><label for="photo">{photo}</label><br>
<input id="photo" name="photo" type="file" accept="image/jpeg,image/png" capture="environment"></p>
<p><button type="submit">{photo_submit}</button></p>
</form>
</section>"#,
        heading = layout.t("home.heading"),
        intro = layout.t("home.intro"),
        paste = layout.t("home.paste_label"),
        file = layout.t("home.file_label"),
        submit = layout.t("home.submit"),
        scan_heading = layout.t("scan.heading"),
        scan_start = layout.t("scan.start"),
        scan_looking = layout.t("scan.looking"),
        scan_no_camera = layout.t("scan.no_camera"),
        scan_not_link = layout.t("scan.photo_not_link"),
        photo = layout.t("scan.photo_label"),
        photo_submit = layout.t("scan.photo_submit"),
        lang = layout.language,
    )
}

/// Picks the sentence for a form that could not be read. A body over the
/// route's limit gets `error.too_large`, and any other error `error.empty`.
fn multipart_error_key(error: &axum::extract::multipart::MultipartError) -> &'static str {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        "error.too_large"
    } else {
        "error.empty"
    }
}

/// Reads the pasted text or the uploaded file, whichever is not empty.
/// Two different non-empty submissions are rejected rather than one of
/// them being checked silently.
async fn read_submission(mut multipart: Multipart) -> Result<Option<Vec<u8>>, &'static str> {
    let mut submitted: Option<Vec<u8>> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(multipart_error_key(&error)),
        };
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                        return Err("error.too_large");
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return Err(multipart_error_key(&error)),
            }
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match &submitted {
            None => submitted = Some(bytes),
            Some(earlier) if earlier.trim_ascii() == bytes.trim_ascii() => {}
            Some(_) => return Err("error.both"),
        }
    }
    Ok(submitted)
}

async fn check(
    State(state): State<VerifierState>,
    query: LanguageQuery,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Page {
    let language = language(&query, &headers);
    let layout = Layout {
        state: &state,
        language,
        path: "/",
    };
    let error_page = |key: &str| Page {
        language,
        remember_language: false,
        status: if key == "error.too_large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        },
        body: layout.render(&layout.t("home.heading"), &check_form(&layout, Some(key))),
    };
    // A body declared over the limit is rejected before any of it is read.
    if declared_length(&headers).is_some_and(|length| length > MAX_CHECK_BODY_BYTES as u64) {
        return error_page("error.too_large");
    }
    // A form posted without a file field (or by a script) is not multipart.
    let Ok(multipart) = multipart else {
        return error_page("error.empty");
    };
    let bytes = match read_submission(multipart).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return error_page("error.empty"),
        Err(key) => return error_page(key),
    };
    // Windows editors may save the file with a UTF-8 byte order mark.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(credential) = credentials::json::parse_strict(text) else {
        return error_page("error.not_json");
    };
    let report = run_verification(&state, credential).await;
    Page {
        language,
        remember_language: false,
        status: StatusCode::OK,
        body: layout.render(
            &verdict_title(&layout, report.as_ref()),
            &verdict(&layout, report.as_ref()),
        ),
    }
}

async fn run_verification(state: &VerifierState, credential: Value) -> Option<Report> {
    state
        .verify_credential(credential)
        .await
        .map_err(|error| tracing::warn!(%error, "verification did not run"))
        .ok()
}

/// Result of fetching a shared credential from its issuer.
pub(crate) enum Fetched {
    Found(Value),
    NotFound,
    Unreachable,
}

pub(crate) async fn fetch_shared(state: &VerifierState, token: &str) -> Fetched {
    if !credentials::compact::is_share_token(token) {
        return Fetched::NotFound;
    }
    let mut outcome = Fetched::NotFound;
    for entry in state.trust.iter() {
        let Some(base) = &entry.credentials_url else {
            continue;
        };
        let url = format!("{}/public/credentials/{token}", base.trim_end_matches('/'));
        match state
            .fetcher
            .get(&url, "application/vc+ld+json, application/json")
            .await
        {
            Ok(response) if response.status == 200 => {
                if let Ok(value) = credentials::json::parse_strict(&response.body) {
                    return Fetched::Found(value);
                }
                outcome = Fetched::Unreachable;
            }
            Ok(response) if response.status == 404 => {}
            Ok(response) => {
                tracing::warn!(issuer = %entry.id, status = response.status, "issuer returned an error status");
                outcome = Fetched::Unreachable;
            }
            Err(error) => {
                tracing::warn!(issuer = %entry.id, %error, "could not reach the issuer");
                outcome = Fetched::Unreachable;
            }
        }
    }
    outcome
}

/// Renders the public page a certificate's QR code opens.
async fn shared(
    State(state): State<VerifierState>,
    Path(token): Path<String>,
    query: LanguageQuery,
    headers: HeaderMap,
) -> Page {
    let language = language(&query, &headers);
    let path = format!("/v/{token}");
    let layout = Layout {
        state: &state,
        language,
        path: &path,
    };
    let remember_language = query.lang.is_some();
    match fetch_shared(&state, &token).await {
        Fetched::Found(credential) => {
            let report = run_verification(&state, credential.clone()).await;
            let outcome = report.as_ref().map(|report| report.outcome);
            if matches!(
                outcome,
                Some(Outcome::Genuine | Outcome::Expired | Outcome::NotYetValid)
            ) {
                state.status_lists.note(&state, &credential);
            }
            // The page's script checks the link's compact form, when there
            // is one, and writes the result here.
            let content = format!(
                "<p id=\"compact-check\" role=\"status\" hidden data-token=\"{}\" data-match=\"{}\" data-mismatch=\"{}\"></p>{}",
                escape_html(&token),
                layout.t("compact.match"),
                layout.t("compact.mismatch"),
                verdict(&layout, report.as_ref())
            );
            Page {
                language,
                remember_language,
                status: StatusCode::OK,
                body: layout.render(&verdict_title(&layout, report.as_ref()), &content),
            }
        }
        Fetched::NotFound => Page {
            language,
            remember_language,
            status: StatusCode::NOT_FOUND,
            body: layout.render(
                &layout.t("error.not_found"),
                &format!(
                    "<p class=\"error\" role=\"alert\">{}</p><p><a class=\"button\" href=\"/\">{}</a></p>",
                    layout.t("error.not_found"),
                    layout.t("action.check_another")
                ),
            ),
        },
        Fetched::Unreachable => Page {
            language,
            remember_language,
            status: StatusCode::BAD_GATEWAY,
            body: layout.render(&verdict_title(&layout, None), &verdict(&layout, None)),
        },
    }
}

/// The verdict key, style class and symbol for an outcome. `None` is a
/// certificate that could not be checked at all.
fn verdict_style(outcome: Option<Outcome>) -> (&'static str, &'static str, &'static str) {
    match outcome {
        Some(Outcome::Genuine) => ("genuine", "good", "✔"),
        Some(Outcome::Revoked) => ("revoked", "bad", "✖"),
        Some(Outcome::Suspended) => ("suspended", "bad", "⏸"),
        Some(Outcome::StatusUnknown) => ("status_unknown", "unknown", "?"),
        Some(Outcome::Expired) => ("expired", "warn", "⚠"),
        Some(Outcome::NotYetValid) => ("not_yet_valid", "warn", "⚠"),
        Some(Outcome::IssuerNotRecognised) => ("issuer_not_recognised", "warn", "⚠"),
        Some(Outcome::Altered) => ("altered", "bad", "✖"),
        Some(Outcome::Forged) => ("forged", "bad", "✖"),
        Some(Outcome::Malformed) => ("malformed", "bad", "✖"),
        None => ("could_not_check", "unknown", "?"),
    }
}

fn verdict_title(layout: &Layout<'_>, report: Option<&Report>) -> String {
    let (key, _, _) = verdict_style(report.map(|r| r.outcome));
    layout.t(&format!("verdict.{key}"))
}

fn day(value: Option<&str>) -> Option<String> {
    let instant = credentials::datetime::parse(value?).ok()?;
    Some(instant.format("%Y-%m-%d").to_string())
}

fn issuer_name(layout: &Layout<'_>, summary: Option<&Summary>) -> String {
    summary
        .and_then(|s| s.issuer_name.as_ref())
        .and_then(|names| {
            names
                .get(layout.language)
                .or_else(|| names.get("fr"))
                .or_else(|| names.values().next())
        })
        .map(|name| escape_html(&remove_hidden_controls(name)))
        .unwrap_or_else(|| layout.t("issuer.unknown"))
}

fn verdict(layout: &Layout<'_>, report: Option<&Report>) -> String {
    let outcome = report.map(|r| r.outcome);
    let (key, class, symbol) = verdict_style(outcome);
    let summary = report.and_then(|r| r.credential.as_ref());
    let issuer = issuer_name(layout, summary);
    let date_args = match outcome {
        Some(Outcome::Expired) => day(summary.and_then(|s| s.valid_until.as_deref())),
        Some(Outcome::NotYetValid) => day(summary.and_then(|s| s.valid_from.as_deref())),
        _ => None,
    }
    .unwrap_or_default();
    // The issuer name is already escaped; pass it through unescaped text.
    let detail = layout
        .t_with(&format!("verdict.{key}.detail"), &[("date", &date_args)])
        .replace("{issuer}", &issuer);

    let mut html = format!(
        "<section class=\"verdict {class}\" role=\"status\"><div class=\"symbol\" aria-hidden=\"true\">{symbol}</div><h1>{title}</h1><p>{detail}</p></section>",
        title = layout.t(&format!("verdict.{key}")),
    );
    // What an altered or forged certificate claims is not shown as fact.
    let trustworthy = !matches!(
        outcome,
        Some(Outcome::Altered | Outcome::Forged | Outcome::Malformed)
    );
    if let Some(summary) = summary.filter(|_| trustworthy) {
        html.push_str(&facts(layout, summary, &issuer));
    }
    if let Some(report) = report {
        html.push_str(&technical_details(layout, report));
    }
    if let Some(checked) = report.and_then(|r| r.status_checked_at.as_deref()) {
        let time = credentials::datetime::parse(checked)
            .map(|instant| instant.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        html.push_str(&format!(
            "<p>{}</p>",
            layout.t_with("footer.status_checked", &[("time", &time)])
        ));
    }
    html.push_str(&format!(
        "<p>{}</p><p><a class=\"button\" href=\"/\">{}</a></p>",
        layout.t_with(
            "footer.checked_at",
            &[("time", &Utc::now().format("%Y-%m-%d %H:%M").to_string())]
        ),
        layout.t("action.check_another")
    ));
    html
}

fn facts(layout: &Layout<'_>, summary: &Summary, issuer: &str) -> String {
    let mut rows = Vec::new();
    let mut row = |label: &str, value: String| {
        if !value.is_empty() {
            rows.push(format!("<dt>{}</dt><dd>{value}</dd>", layout.t(label)));
        }
    };
    // Names in every script the credential gives, each isolated so that
    // Latin names read correctly inside right-to-left text. Hidden
    // controls are removed, so a name reads as it is stored.
    let names: Vec<String> = summary
        .subject_name
        .0
        .values()
        .map(|name| format!("<bdi>{}</bdi>", escape_html(&remove_hidden_controls(name))))
        .collect();
    row("field.recipient", names.join(" · "));
    let pick = |text: &credentials::LocalizedText| {
        text.pick(layout.language)
            .map(|value| format!("<bdi>{}</bdi>", escape_html(&remove_hidden_controls(value))))
            .unwrap_or_default()
    };
    row("field.achievement", pick(&summary.achievement_name));
    row("field.issuer", issuer.to_owned());
    row(
        "field.valid_from",
        day(summary.valid_from.as_deref()).unwrap_or_default(),
    );
    row(
        "field.valid_until",
        day(summary.valid_until.as_deref()).unwrap_or_else(|| layout.t("field.no_expiry")),
    );
    row("field.description", pick(&summary.achievement_description));
    row("field.criteria", pick(&summary.criteria));
    format!("<dl>{}</dl>", rows.concat())
}

fn technical_details(layout: &Layout<'_>, report: &Report) -> String {
    let mut lines: Vec<String> = report
        .checks
        .iter()
        .map(|check| format!("<li>✔ {}</li>", technical_text(check)))
        .collect();
    lines.extend(
        report
            .errors
            .iter()
            .chain(report.warnings.iter())
            .map(|problem| {
                format!(
                    "<li dir=\"ltr\">✖ {}: {}</li>",
                    technical_text(&problem.check),
                    technical_text(&problem.detail)
                )
            }),
    );
    let id = report
        .credential
        .as_ref()
        .and_then(|s| s.issuer_id.as_deref())
        .map(|id| format!("<p dir=\"ltr\">{}</p>", technical_text(id)))
        .unwrap_or_default();
    format!(
        "<details><summary>{}</summary>{id}<ul>{}</ul></details>",
        layout.t("footer.technical"),
        lines.concat()
    )
}

/// Escapes a check name, problem detail or id for the technical details,
/// with its hidden controls written out as code points, so that the
/// reader sees an issuer id exactly as the credential gives it.
fn technical_text(text: &str) -> String {
    escape_html(&show_hidden_controls(text))
}
