//! The HTML page shell shared by every page: head, style sheet, language
//! switch and sign-out button.
//!
//! Every text comes from the translation files through [`Page::text`] and
//! is HTML-escaped there. Names and texts from credentials and members
//! pass through [`display_text`], and every other dynamic value through
//! [`escape_html`], before they reach the markup.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use credentials::i18n::{direction, escape_html, remove_hidden_controls, Translations, LANGUAGES};

/// Escapes a name or text taken from a credential or the members table,
/// without its hidden bidirectional and zero-width controls, so that it
/// reads on the page as it is stored
/// ([`credentials::i18n::remove_hidden_controls`]).
pub fn display_text(text: &str) -> String {
    escape_html(&remove_hidden_controls(text))
}

/// Mobile first: one column, readable from 360 px wide, touch targets of
/// at least 48 px. Logical properties (`inline-start`) follow the text
/// direction, so right-to-left pages need no rules of their own.
const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic","Noto Sans Tifinagh",sans-serif;color:#1b1b1b;background:#f6f4ef}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.5rem 1rem;background:#14532d;color:#fff}
header a{color:#fff}
.app{margin:0;font-weight:700}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0;list-style:none}
nav a{display:inline-block;min-height:48px;min-width:48px;padding:.7rem .6rem}
nav a[aria-current]{font-weight:700;text-decoration:none;border-bottom:3px solid #fff}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25}
h2{font-size:1.3rem;margin-top:2rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;min-height:48px;padding:.6rem .75rem;font-size:1.2rem;border:2px solid #555;border-radius:.5rem}
button,.button{display:inline-block;min-height:48px;padding:.75rem 1.25rem;margin-top:1rem;font:inherit;font-weight:600;border:0;border-radius:.5rem;background:#14532d;color:#fff;text-decoration:none;text-align:center;cursor:pointer}
header form{margin:0}
header button{margin:0;background:#fff;color:#14532d}
.card{background:#fff;border-radius:.75rem;padding:1rem;margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.2)}
.card h3{margin:0 0 .25rem;font-size:1.2rem}
.names{color:#444;margin:.25rem 0}
.expired{color:#b91c1c;font-weight:600}
.qr{margin:1rem 0;text-align:center}
.qr img{width:100%;max-width:16rem;height:auto;background:#fff}
.qr figcaption{font-size:.95rem;color:#333}
.path-modules{padding-inline-start:.75rem;border-inline-start:3px solid #c7d8cc}
.notice{background:#e8f3ec;border-inline-start:4px solid #14532d;padding:.75rem 1rem}
.error{background:#fde8e8;border-inline-start:4px solid #b91c1c;padding:.75rem 1rem}
progress{width:100%;height:1rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}
.actions .button{margin-top:.5rem}
.button.secondary,button.secondary{background:#fff;color:#14532d;border:2px solid #14532d}
.status{font-weight:700;padding:.25rem .5rem;border-radius:.25rem;display:inline-block}
.status-valid{background:#e8f3ec;color:#14532d}
.status-invalid{background:#fde8e8;color:#b91c1c}
.hint{color:#333;font-size:.95rem}
.public-link{word-break:break-all}
ul.plain{list-style:none;padding:0}
ul.plain li{padding:.5rem 0;border-bottom:1px solid #ddd}
"#;

/// Context shared by the pages of one response: the texts, the language
/// and whether the visitor is signed in.
pub struct Page<'a> {
    pub texts: &'a Translations,
    pub language: &'static str,
    /// The path the language switch links to, so that switching language
    /// reloads the same page.
    pub path: &'a str,
    pub signed_in: bool,
}

impl Page<'_> {
    /// Translates `key` into the page language, HTML-escaped.
    pub fn text(&self, key: &str) -> String {
        self.texts.text(self.language, key, &[])
    }

    /// Translates `key` and replaces its `{name}` placeholders with HTML
    /// fragments. Callers escape any dynamic value inside a fragment.
    pub fn text_with_html(&self, key: &str, fragments: &[(&str, &str)]) -> String {
        let mut text = self.texts.text(self.language, key, &[]);
        for (name, html) in fragments {
            text = text.replace(&format!("{{{name}}}"), html);
        }
        text
    }

    /// Renders the whole document around `main`, the page's content.
    pub fn render(&self, status: StatusCode, title: &str, main: &str) -> Response {
        let app_name = self.text("app.name");
        let mut html = String::with_capacity(main.len() + STYLE.len() + 2048);
        html.push_str(&format!(
            "<!doctype html>\n<html lang=\"{language}\" dir=\"{direction}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"theme-color\" content=\"#14532d\">\n\
             <link rel=\"manifest\" href=\"/manifest.webmanifest\">\n\
             <link rel=\"icon\" href=\"/icon.svg\" type=\"image/svg+xml\">\n\
             <script src=\"/app.js\" defer></script>\n\
             <title>{title} – {app_name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n\
             <p class=\"app\">{app_name}</p>\n",
            language = self.language,
            direction = direction(self.language),
        ));
        html.push_str(&self.language_switch());
        if self.signed_in {
            html.push_str(&format!(
                "<form method=\"post\" action=\"/sign-out\"><button type=\"submit\">{}</button></form>\n",
                self.text("wallet.sign_out")
            ));
        }
        html.push_str("</header>\n<main>\n");
        html.push_str(main);
        html.push_str("</main>\n</body>\n</html>\n");
        (status, Html(html)).into_response()
    }

    /// Links to this page in each language, each named in its own language.
    fn language_switch(&self) -> String {
        let mut html = format!(
            "<nav aria-label=\"{}\"><ul>\n",
            self.text("language.switch")
        );
        for language in LANGUAGES {
            let current = if language == self.language {
                " aria-current=\"true\""
            } else {
                ""
            };
            html.push_str(&format!(
                "<li><a href=\"{path}?lang={language}\" lang=\"{language}\" hreflang=\"{language}\"{current}><bdi>{name}</bdi></a></li>\n",
                path = escape_html(self.path),
                name = self.texts.text(language, "language.name", &[]),
            ));
        }
        html.push_str("</ul></nav>\n");
        html
    }

    /// Renders a page that shows one sentence, for errors, with a link to
    /// the start page.
    pub fn message(&self, status: StatusCode, key: &str) -> Response {
        let main = format!(
            "<p class=\"error\" role=\"alert\">{}</p>\n<p><a class=\"button\" href=\"/\">{}</a></p>\n",
            self.text(key),
            self.text("page.home"),
        );
        self.render(status, &self.text(key), &main)
    }
}
