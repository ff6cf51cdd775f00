//! The e-mail address or phone number a member signs in with.

/// A sign-in identifier in the form the `members` table stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    /// Lowercase e-mail address.
    Email(String),
    /// `+` followed by the international number's digits.
    Phone(String),
}

/// Morocco's country calling code, assumed for numbers written in the
/// national form `0XXXXXXXXX`.
const MOROCCO_CALLING_CODE: &str = "212";

/// Maximum identifier length accepted, in bytes. E-mail addresses that SMTP can
/// deliver to are at most 254 bytes long.
const MAX_LENGTH: usize = 254;

impl Identifier {
    /// Parses what a member typed: an e-mail address (trimmed and
    /// lowercased) or a phone number (spaces, dots, dashes and brackets
    /// removed). Returns `None` for text that is neither.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        if input.is_empty() || input.len() > MAX_LENGTH {
            return None;
        }
        if input.contains('@') {
            return parse_email(input);
        }
        parse_phone(input)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Email(text) | Identifier::Phone(text) => text,
        }
    }
}

fn parse_email(input: &str) -> Option<Identifier> {
    let (local, domain) = input.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || input.chars().any(char::is_whitespace) {
        return None;
    }
    Some(Identifier::Email(input.to_lowercase()))
}

fn parse_phone(input: &str) -> Option<Identifier> {
    let (international, rest) = match input.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    let digits = if international {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        // International prefix dialled from Morocco and most of Europe.
        rest.to_owned()
    } else if digits.len() == 10 && digits.starts_with('0') {
        format!("{MOROCCO_CALLING_CODE}{}", &digits[1..])
    } else {
        digits
    };
    // E.164 allows at most 15 digits. The minimum of 7 is an estimate of
    // the shortest international numbers in use, and rejects typing mistakes.
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(Identifier::Phone(format!("+{digits}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Identifier::parse("  Fatima.AitBaha@Example.ORG \n"),
            Some(Identifier::Email("fatima.aitbaha@example.org".to_owned()))
        );
    }

    #[test]
    fn phone_forms_normalize_to_international() {
        let expected = Some(Identifier::Phone("+212600000001".to_owned()));
        for input in [
            "+212600000001",
            "+212 6 00-00-00-01",
            "00212600000001",
            "0600000001",
            "06.00.00.00.01",
        ] {
            assert_eq!(Identifier::parse(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn rejects_text_that_is_neither() {
        for input in [
            "",
            "   ",
            "fatima",
            "@example.org",
            "fatima@",
            "+212abc",
            "12345",
            "a b@example.org",
        ] {
            assert_eq!(Identifier::parse(input), None, "input {input:?}");
        }
    }
}
