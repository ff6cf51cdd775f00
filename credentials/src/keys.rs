//! Ed25519 keys in Multikey form and `did:key` identifiers.

use ed25519_dalek::{SigningKey, VerifyingKey};

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an Ed25519 private key (`ed25519-priv`, 0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{0:?} is not a base58btc multibase value")]
    Multibase(String),
    #[error("{0:?} is not an Ed25519 Multikey (wrong prefix or length)")]
    NotEd25519(String),
    #[error("{0:?} is not a valid Ed25519 public key")]
    InvalidPoint(String),
}

/// Encodes a public key as a Multikey `publicKeyMultibase` value.
pub fn public_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase::encode(multibase::Base::Base58Btc, bytes)
}

/// Encodes a private key as a Multikey `secretKeyMultibase` value.
pub fn secret_multibase(key: &SigningKey) -> String {
    let mut bytes = ED25519_PRIV.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase::encode(multibase::Base::Base58Btc, bytes)
}

fn decode_base58btc(value: &str) -> Result<Vec<u8>, KeyError> {
    // Only base58btc (`z`) is allowed for Multikey values.
    if !value.starts_with('z') || value.len() > 128 {
        return Err(KeyError::Multibase(value.to_owned()));
    }
    multibase::decode(value)
        .map(|(_, bytes)| bytes)
        .map_err(|_| KeyError::Multibase(value.to_owned()))
}

/// Decodes a Multikey `publicKeyMultibase` value holding an Ed25519 key.
pub fn decode_public_multibase(value: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = decode_base58btc(value)?;
    let raw: [u8; 32] = bytes
        .strip_prefix(&ED25519_PUB)
        .and_then(|raw| raw.try_into().ok())
        .ok_or_else(|| KeyError::NotEd25519(value.to_owned()))?;
    VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::InvalidPoint(value.to_owned()))
}

/// Decodes a Multikey `secretKeyMultibase` value holding an Ed25519 seed.
pub fn decode_secret_multibase(value: &str) -> Result<SigningKey, KeyError> {
    let bytes = decode_base58btc(value)?;
    let raw = bytes
        .strip_prefix(&ED25519_PRIV)
        .ok_or_else(|| KeyError::NotEd25519(value.to_owned()))?;
    // Some tools write the 32-byte seed followed by the public key.
    let (seed, public) = match raw.len() {
        32 => (raw, None),
        64 => (&raw[..32], Some(&raw[32..])),
        _ => return Err(KeyError::NotEd25519(value.to_owned())),
    };
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::NotEd25519(value.to_owned()))?;
    let key = SigningKey::from_bytes(&seed);
    if public.is_some_and(|public| public != key.verifying_key().as_bytes()) {
        return Err(KeyError::InvalidPoint(value.to_owned()));
    }
    Ok(key)
}

/// Decodes a base58btc multibase signature (`proofValue`) of 64 bytes.
pub fn decode_signature(value: &str) -> Result<ed25519_dalek::Signature, KeyError> {
    let bytes = decode_base58btc(value)?;
    let raw: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::NotEd25519(value.to_owned()))?;
    Ok(ed25519_dalek::Signature::from_bytes(&raw))
}

/// Encodes a signature as a base58btc multibase `proofValue`.
pub fn encode_signature(signature: &ed25519_dalek::Signature) -> String {
    multibase::encode(multibase::Base::Base58Btc, signature.to_bytes())
}

/// Returns the `did:key` identifier of an Ed25519 public key.
pub fn did_key(key: &VerifyingKey) -> String {
    format!("did:key:{}", public_multibase(key))
}

/// Generates a new Ed25519 signing key from the operating system's RNG.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_vector_key_round_trips() {
        let secret = decode_secret_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
            .expect("secret key");
        assert_eq!(
            public_multibase(&secret.verifying_key()),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        assert_eq!(
            secret_multibase(&secret),
            "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
        );
    }

    #[test]
    fn rejects_wrong_prefix_and_length() {
        let short = multibase::encode(multibase::Base::Base58Btc, [0xed, 0x01, 1, 2, 3]);
        assert!(matches!(
            decode_public_multibase(&short),
            Err(KeyError::NotEd25519(_))
        ));
        let secp = multibase::encode(
            multibase::Base::Base58Btc,
            [0xe7, 0x01]
                .iter()
                .chain([7u8; 33].iter())
                .copied()
                .collect::<Vec<u8>>(),
        );
        assert!(matches!(
            decode_public_multibase(&secp),
            Err(KeyError::NotEd25519(_))
        ));
        assert!(matches!(
            decode_public_multibase("u7QE"),
            Err(KeyError::Multibase(_))
        ));
        assert!(matches!(
            decode_public_multibase("z0OIl"),
            Err(KeyError::Multibase(_))
        ));
    }
}
