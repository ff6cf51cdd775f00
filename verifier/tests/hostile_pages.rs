//! What the verifier's pages show for credentials with hostile text and
//! links: markup, script, look-alike names, bidirectional and zero-width
//! controls, and `javascript:`, `data:` and `vbscript:` URLs. Each case is
//! checked on a third-party credential (signed with a `did:key`) through
//! the check form, and on the academy's own credential (issued through the
//! issuer's VC API) through its share page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use credentials::i18n::{escape_html, is_hidden_control};
use credentials::{keys, proof};
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

mod common;
use common::{form_post, world, World};

const STAFF: &str = "staff-test-token";

/// The academy's names in the trusted issuer file (`Config::academy_name`).
const ACADEMY_NAMES: [&str; 4] = [
    "TaaWounYa Academy",
    "Académie TaaWounYa",
    "أكاديمية تعاونيا",
    "ⵜⴰⴽⴰⴷⵉⵎⵉⵜ ⵏ ⵜⴰⵡⵓⵏⵢⴰ",
];

/// Text placed in every text field of a credential: issuer name, credential
/// name, achievement name, description and criteria, recipient name.
struct TextCase {
    name: &'static str,
    value: &'static str,
}

const TEXT_CASES: &[TextCase] = &[
    TextCase {
        name: "script element",
        value: "<script>alert('x')</script>",
    },
    TextCase {
        name: "image with onerror",
        value: "<img src=x onerror=alert(1)>",
    },
    TextCase {
        name: "attribute break-out with svg onload",
        value: "\"><svg onload=alert(1)>",
    },
    TextCase {
        name: "Cyrillic look-alike of the academy",
        value: "\u{0422}\u{0430}\u{0430}W\u{043E}unY\u{0430} \u{0410}c\u{0430}d\u{0435}my",
    },
    TextCase {
        name: "Greek look-alike of the academy",
        value: "\u{03A4}aaW\u{03BF}un\u{03A5}a \u{0391}cademy",
    },
    TextCase {
        name: "Arabic look-alike of the academy",
        value: "أ\u{06A9}اد\u{06CC}م\u{06CC}ة تعاون\u{06CC}ا",
    },
    TextCase {
        name: "Tifinagh look-alike of the academy",
        value: "+ⴰⴽⴰⴷⵉⵎⵉ+ I +ⴰⵡⵓIⵢⴰ",
    },
    TextCase {
        name: "right-to-left override",
        value: "\u{202E}ymedacA aYnuoWaaT\u{202C}",
    },
    TextCase {
        name: "embeddings and isolates",
        value: "\u{202A}Taa\u{202B}Woun\u{202D}Ya\u{2066} Aca\u{2067}de\u{2068}my\u{2069}",
    },
    TextCase {
        name: "zero-width characters",
        value: "Taa\u{200B}Woun\u{200C}Ya\u{200D} Aca\u{2060}demy\u{FEFF}",
    },
];

/// URL placed in every field that could become a link or an image: the
/// issuer's `url` and `image`, the achievement's `image`, the credential's
/// `image` and its `evidence`.
const URL_CASES: &[TextCase] = &[
    TextCase {
        name: "javascript URL",
        value: "javascript:alert(1)",
    },
    TextCase {
        name: "vbscript URL",
        value: "vbscript:msgbox(1)",
    },
    TextCase {
        name: "HTML data URL",
        value: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    },
    TextCase {
        name: "SVG data URL with script",
        value: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiPjxzY3JpcHQ+YWxlcnQoMik8L3NjcmlwdD48L3N2Zz4=",
    },
    TextCase {
        name: "percent-encoded SVG data URL",
        value: "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20onload%3D%22alert(1)%22%2F%3E",
    },
];

/// Schemes no page may link to or load, as they appear in markup.
const DANGEROUS_SCHEMES: [&str; 3] = ["javascript:", "vbscript:", "data:"];

impl World {
    async fn page(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = self
            .verifier
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            String::from_utf8(body.to_vec()).expect("UTF-8 page"),
        )
    }

    /// Posts `credential` to the check form, as a person pasting it would.
    async fn check(&self, credential: &Value) -> (StatusCode, String) {
        let content = credential.to_string();
        let request = form_post("/check?lang=en", "credential", None, content.as_bytes());
        self.page(request).await
    }

    /// Issues `credential` through the issuer's VC API and returns the
    /// share page the verifier shows for it.
    async fn issue_and_open(&self, credential: Value) -> (StatusCode, String) {
        let response = reqwest::Client::new()
            .post(format!("{}/credentials/issue", self.issuer_url))
            .bearer_auth(STAFF)
            .json(&json!({ "credential": credential }))
            .send()
            .await
            .expect("issue");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        let id = body["verifiableCredential"]["id"].as_str().expect("id");
        let token: String = sqlx::query_scalar("SELECT share_token FROM credentials WHERE id = $1")
            .bind(id)
            .fetch_one(&self.issuer.db)
            .await
            .expect("share token");
        let request = Request::get(format!("/v/{token}?lang=en"))
            .body(Body::empty())
            .expect("request");
        self.page(request).await
    }

    fn academy_did(&self) -> String {
        self.issuer.config.did.clone()
    }
}

/// Builds an Open Badges credential with `text` in every text field and `url`
/// in every field that could become a link or an image.
fn hostile_credential(issuer: &str, text: &str, url: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": format!("urn:uuid:{}", uuid_like(text, url)),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": text,
            "url": url,
            "image": {"id": url, "type": "Image"}
        },
        "name": text,
        "image": {"id": url, "type": "Image"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": text,
            "achievement": {
                "id": "https://academy.example/achievements/hostile",
                "type": ["Achievement"],
                "name": text,
                "description": text,
                "image": {"id": url, "type": "Image"},
                "criteria": {"narrative": text}
            }
        },
        "evidence": [{"id": url, "type": ["Evidence"], "name": text}]
    })
}

/// Makes a UUID from the case's values, so that each credential has its own id.
fn uuid_like(text: &str, url: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (text, url).hash(&mut hasher);
    let hash = hasher.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xfff,
        (hash >> 20) & 0xfff,
        hash & 0xffff_ffff_ffff
    )
}

/// Signs `credential` with a new `did:key`, whose DID replaces the issuer
/// id unless `keep_issuer` is set.
fn sign_as_third_party(mut credential: Value, keep_issuer: bool) -> Value {
    let key = keys::generate();
    let did = keys::did_key(&key.verifying_key());
    let multibase = keys::public_multibase(&key.verifying_key());
    if !keep_issuer {
        credential["issuer"]["id"] = json!(did);
    }
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": format!("{did}#{multibase}"),
        "proofPurpose": "assertionMethod",
    });
    let unsigned: Map<String, Value> = credential.as_object().cloned().expect("object");
    Value::Object(proof::sign(&unsigned, options.as_object().expect("object"), &key).expect("sign"))
}

/// Returns the content of `<main>`, which contains everything taken from a
/// credential.
fn main_of(page: &str) -> &str {
    let start = page.find("<main>").expect("<main>");
    let end = page.find("</main>").expect("</main>");
    &page[start..end]
}

/// Returns the class of the verdict section, such as `verdict good`.
fn verdict_class(page: &str) -> &str {
    let start = page.find("<section class=\"").expect("verdict section") + 16;
    let length = page[start..].find('"').expect("end of class");
    &page[start..start + length]
}

/// Returns the value of the "Issued by" row, or `None` when the page shows
/// no facts.
fn issuer_row(page: &str) -> Option<&str> {
    let start = page.find("<dt>Issued by</dt><dd>")? + "<dt>Issued by</dt><dd>".len();
    let length = page[start..].find("</dd>").expect("end of row");
    Some(&page[start..start + length])
}

/// Collects every value of the attributes that load or link a resource.
fn link_attributes(page: &str) -> Vec<String> {
    let mut values = Vec::new();
    for attribute in [
        " href=\"",
        " src=\"",
        " action=\"",
        " formaction=\"",
        " poster=\"",
        " srcset=\"",
    ] {
        let mut rest = page;
        while let Some(position) = rest.find(attribute) {
            let value_start = position + attribute.len();
            let length = rest[value_start..].find('"').expect("closing quote");
            values.push(rest[value_start..value_start + length].to_owned());
            rest = &rest[value_start + length..];
        }
    }
    values
}

/// Checks what every page must do with hostile input, from any signer.
fn assert_inert(case: &str, page: &str, hostile: &str) {
    let main = main_of(page);
    if hostile.contains('<') || hostile.contains('"') {
        assert!(!page.contains(hostile), "{case}: markup passed through");
    }
    for value in link_attributes(page) {
        assert!(
            value.starts_with('/') && !value.starts_with("//"),
            "{case}: a link or image leaves the verifier: {value}"
        );
    }
    let lowercase = page.to_lowercase();
    for scheme in DANGEROUS_SCHEMES {
        assert!(
            !lowercase.contains(scheme),
            "{case}: the page contains {scheme}"
        );
    }
    assert_eq!(
        page.matches("<script").count(),
        1,
        "{case}: only the verifier's own script element"
    );
    for tag in ["<img", "<svg", "<iframe", "<object", "<embed"] {
        assert!(!page.contains(tag), "{case}: the page contains {tag}");
    }
    if let Some(control) = main.chars().find(|c| is_hidden_control(*c)) {
        panic!(
            "{case}: hidden control U+{:04X} on the page",
            u32::from(control)
        );
    }
}

#[tokio::test]
async fn third_party_hostile_text_is_inert() {
    let world = world().await;
    for case in TEXT_CASES {
        let credential = sign_as_third_party(
            hostile_credential("did:example:replaced", case.value, "https://example.org/"),
            false,
        );
        let (status, page) = world.check(&credential).await;
        assert_eq!(status, StatusCode::OK, "{}", case.name);
        assert_eq!(
            verdict_class(&page),
            "verdict warn",
            "{}: {page}",
            case.name
        );
        assert!(
            page.contains("<h1>Issuer not recognised</h1>"),
            "{}",
            case.name
        );
        assert_inert(case.name, &page, case.value);
        // The achievement is shown as the credential states it, escaped and
        // without hidden controls.
        let expected: String = case
            .value
            .chars()
            .filter(|c| !is_hidden_control(*c))
            .collect();
        assert!(
            main_of(&page).contains(&format!("<bdi>{}</bdi>", escape_html(&expected))),
            "{}: achievement name not shown as text: {page}",
            case.name
        );
        assert_eq!(
            issuer_row(&page),
            Some("an organisation that is not on our list"),
            "{}: the credential's own issuer name is shown",
            case.name
        );
        for name in ACADEMY_NAMES {
            assert!(
                !main_of(&page).contains(name) || expected.contains(name),
                "{}: the page names the academy",
                case.name
            );
        }
    }
}

#[tokio::test]
async fn third_party_hostile_urls_are_not_linked() {
    let world = world().await;
    for case in URL_CASES {
        let credential = sign_as_third_party(
            hostile_credential("did:example:replaced", "Food hygiene", case.value),
            false,
        );
        let (status, page) = world.check(&credential).await;
        assert_eq!(status, StatusCode::OK, "{}", case.name);
        assert_eq!(
            verdict_class(&page),
            "verdict warn",
            "{}: {page}",
            case.name
        );
        assert_inert(case.name, &page, case.value);
    }
}

#[tokio::test]
async fn academy_name_alone_earns_no_trust() {
    let world = world().await;
    let academy = world.academy_did();
    // Each credential names the academy; none is signed with its key.
    let cases = [
        (
            "the academy's exact names, another DID",
            sign_as_third_party(
                hostile_credential(
                    "did:example:replaced",
                    "TaaWounYa Academy",
                    "https://example.org/",
                ),
                false,
            ),
            "verdict warn",
        ),
        (
            "the academy's DID, another key",
            sign_as_third_party(
                hostile_credential(&academy, "TaaWounYa Academy", "https://example.org/"),
                true,
            ),
            "verdict bad",
        ),
        (
            "the academy's DID with a zero-width space, another key",
            sign_as_third_party(
                hostile_credential(
                    &format!("{academy}\u{200B}"),
                    "TaaWounYa Academy",
                    "https://example.org/",
                ),
                true,
            ),
            "verdict bad",
        ),
        (
            "the academy's DID with a right-to-left override, another key",
            sign_as_third_party(
                hostile_credential(
                    &format!("\u{202E}{academy}"),
                    "TaaWounYa Academy",
                    "https://example.org/",
                ),
                true,
            ),
            "verdict bad",
        ),
    ];
    for (case, credential, class) in cases {
        let (status, page) = world.check(&credential).await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(verdict_class(&page), class, "{case}: {page}");
        assert!(
            !page.contains("<h1>Genuine certificate</h1>"),
            "{case}: shown as genuine"
        );
        if let Some(row) = issuer_row(&page) {
            assert_eq!(
                row, "an organisation that is not on our list",
                "{case}: shown as issued by the academy"
            );
        }
        assert_inert(case, &page, "TaaWounYa Academy");
        let detail_start = page.find("<p>").expect("verdict detail");
        let detail_end = detail_start + page[detail_start..].find("</p>").expect("end");
        for name in ACADEMY_NAMES {
            assert!(
                !page[detail_start..detail_end].contains(name),
                "{case}: the verdict names the academy"
            );
        }
    }

    // Hidden controls in an issuer id are written out in the technical
    // details, so a look-alike id can be distinguished from the academy's.
    let credential = sign_as_third_party(
        hostile_credential(&format!("{academy}\u{200B}"), "x", "https://example.org/"),
        true,
    );
    let (_, page) = world.check(&credential).await;
    assert!(
        page.contains(&format!("{}&lt;U+200B&gt;", escape_html(&academy))),
        "zero-width space not shown in the issuer id: {page}"
    );
}

#[tokio::test]
async fn academy_credential_hostile_text_is_inert() {
    let world = world().await;
    for case in TEXT_CASES {
        // The issuer sets the issuer id itself; the credential's own
        // issuer name is hostile.
        let mut credential = hostile_credential("", case.value, "https://example.org/");
        credential["issuer"]
            .as_object_mut()
            .expect("issuer")
            .remove("id");
        let (status, page) = world.issue_and_open(credential).await;
        assert_eq!(status, StatusCode::OK, "{}", case.name);
        assert_eq!(
            verdict_class(&page),
            "verdict good",
            "{}: {page}",
            case.name
        );
        assert_inert(case.name, &page, case.value);
        assert_eq!(
            issuer_row(&page),
            Some("TaaWounYa Academy"),
            "{}: the issuer's name must come from the trusted list",
            case.name
        );
        let expected: String = case
            .value
            .chars()
            .filter(|c| !is_hidden_control(*c))
            .collect();
        assert!(
            main_of(&page).contains(&format!("<bdi>{}</bdi>", escape_html(&expected))),
            "{}: achievement name not shown as text: {page}",
            case.name
        );
    }
}

#[tokio::test]
async fn academy_credential_hostile_urls_are_not_linked() {
    let world = world().await;
    for case in URL_CASES {
        let mut credential = hostile_credential("", "Food hygiene", case.value);
        credential["issuer"]
            .as_object_mut()
            .expect("issuer")
            .remove("id");
        let (status, page) = world.issue_and_open(credential).await;
        assert_eq!(status, StatusCode::OK, "{}", case.name);
        assert_eq!(
            verdict_class(&page),
            "verdict good",
            "{}: {page}",
            case.name
        );
        assert_inert(case.name, &page, case.value);
    }
}
