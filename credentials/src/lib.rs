//! Credential model, Data Integrity signing and verification, and QR codes
//! shared by the TaaWounYa Academy issuer, verifier and wallet.

pub mod canon;
pub mod compact;
pub mod contexts;
pub mod cose;
pub mod datetime;
pub mod did;
pub mod expand;
pub mod i18n;
pub mod json;
pub mod keys;
pub mod limits;
pub mod listener;
pub mod model;
pub mod problem;
pub mod proof;
pub mod qr;
pub mod rdf;
pub mod shutdown;
pub mod status;
pub mod terms;
pub mod text;
pub mod verify;

pub use did::Resolver;
pub use text::LocalizedText;
pub use verify::{Outcome, Report, TrustedIssuer, Verifier};
