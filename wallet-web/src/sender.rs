//! Delivery of sign-in codes to members.
//!
//! The wallet talks to a [`Sender`]. Development and tests use
//! [`OutboxSender`], which appends each message to a file instead of
//! delivering it. [`SmtpSender`](crate::smtp::SmtpSender) delivers codes
//! by e-mail.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use tokio::io::AsyncWriteExt;

/// A sign-in code on its way to a member.
#[derive(Debug, Clone, Serialize)]
pub struct CodeMessage {
    /// The e-mail address or phone number the member typed, normalized.
    pub to: String,
    pub member_id: String,
    pub code: String,
    pub at: DateTime<Utc>,
    /// Language of the page the member asked from, which the message is
    /// written in (`ar`, `fr`, `zgh` or `en`).
    pub language: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("writing the sign-in code to the outbox failed: {0}")]
    Outbox(#[from] std::io::Error),
    #[error("the sign-in code could not be sent by e-mail: {0}")]
    Smtp(String),
    #[error("no sender delivers to phone numbers, so the code was not sent")]
    NoPhoneSender,
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers sign-in codes. Implementations must not log the code or the
/// recipient's address.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, message: &'a CodeMessage) -> SendFuture<'a>;
}

/// Development sender: appends one JSON line per message to
/// `messages.log` in its folder. The file contains codes in clear text, so it
/// is for development and tests only.
pub struct OutboxSender {
    file: PathBuf,
    /// Keeps lines from concurrent requests whole.
    write_lock: tokio::sync::Mutex<()>,
}

impl OutboxSender {
    pub fn new(folder: &Path) -> Self {
        Self {
            file: folder.join("messages.log"),
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Returns the path of the file that messages are appended to.
    pub fn file(&self) -> &Path {
        &self.file
    }

    async fn append(&self, message: &CodeMessage) -> Result<(), SendError> {
        let mut line = serde_json::to_string(message).map_err(std::io::Error::from)?;
        line.push('\n');
        let _guard = self.write_lock.lock().await;
        if let Some(folder) = self.file.parent() {
            tokio::fs::create_dir_all(folder).await?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .await?;
        file.write_all(line.as_bytes()).await?;
        file.flush().await?;
        Ok(())
    }
}

impl Sender for OutboxSender {
    fn send<'a>(&'a self, message: &'a CodeMessage) -> SendFuture<'a> {
        Box::pin(self.append(message))
    }
}
