//! Delivery of sign-in codes by e-mail, through an SMTP server.
//!
//! `WALLET_SMTP_URL` selects this sender (see `config`). The message is
//! plain UTF-8 text in the language of the page the member asked from.

use crate::plain_text::PlainTexts;
use crate::sender::{CodeMessage, SendError, SendFuture, Sender};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// Time allowed for one SMTP conversation, so that a slow server cannot
/// hold a sign-in request for long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends each code as an e-mail through one SMTP server.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    texts: Arc<PlainTexts>,
}

impl SmtpSender {
    /// Connects lazily to the server of `url`: `smtp://host:port` (no
    /// encryption, for a relay on the same machine), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://host` (TLS), each with optional
    /// `user:password@` credentials.
    pub fn new(url: &str, from: &str, texts: Arc<PlainTexts>) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| anyhow::anyhow!("WALLET_SMTP_URL is not a valid SMTP URL: {error}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from.parse().map_err(|error| {
            anyhow::anyhow!("WALLET_MAIL_FROM is not an e-mail address: {error}")
        })?;
        Ok(Self {
            transport,
            from,
            texts,
        })
    }

    fn email(&self, message: &CodeMessage) -> Result<Message, SendError> {
        if !message.to.contains('@') {
            return Err(SendError::NoPhoneSender);
        }
        let to: Mailbox = message.to.parse().map_err(|_| {
            SendError::Smtp("the recipient is not a valid e-mail address".to_owned())
        })?;
        let minutes = crate::codes::CODE_LIFETIME.num_minutes().to_string();
        let subject = self.texts.text(message.language, "mail.subject", &[]);
        let body = self.texts.text(
            message.language,
            "mail.body",
            &[("code", &message.code), ("minutes", &minutes)],
        );
        // Base64 keeps Arabic and Tifinagh text intact through any relay.
        let part = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Base64)
            .body(body);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .singlepart(part)
            .map_err(|error| SendError::Smtp(error.to_string()))
    }

    async fn deliver(&self, message: &CodeMessage) -> Result<(), SendError> {
        let email = self.email(message)?;
        self.transport
            .send(email)
            .await
            .map_err(|error| SendError::Smtp(describe(&error)))?;
        Ok(())
    }
}

/// Describes an SMTP failure by its kind and reply code only, because the
/// server's reply text can contain the recipient's address, which must not
/// reach the logs.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let kind = if error.is_timeout() {
        "the server did not answer in time"
    } else if error.is_permanent() {
        "the server rejected the message"
    } else if error.is_transient() {
        "the server deferred the message"
    } else if error.is_tls() {
        "the TLS connection failed"
    } else {
        "the connection to the server failed"
    };
    match error.status() {
        Some(code) => format!("{kind} (reply code {code})"),
        None => kind.to_owned(),
    }
}

impl Sender for SmtpSender {
    fn send<'a>(&'a self, message: &'a CodeMessage) -> SendFuture<'a> {
        // TODO: deliver codes for phone numbers by SMS; until an SMS sender
        // exists, a member who types their phone number gets no code.
        Box::pin(self.deliver(message))
    }
}
