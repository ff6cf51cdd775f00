//! A status list's `encodedList`, through `credentials::status::decode`
//! and `read_bit`.
//!
//! The first 8 bytes are the entry index (little-endian), the next 4 the
//! minimum number of entries, and the rest is the `encodedList` text. A
//! list that decodes must encode and decode back to the same bits.

#![no_main]

use credentials::status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (index, rest) = data.split_at(8);
    let (minimum, encoded) = rest.split_at(4);
    let index = u64::from_le_bytes(index.try_into().expect("8 bytes"));
    let minimum = u64::from(u32::from_le_bytes(minimum.try_into().expect("4 bytes")));
    let Ok(encoded) = std::str::from_utf8(encoded) else {
        return;
    };
    let Ok(list) = status::decode(encoded) else {
        return;
    };
    let _ = status::read_bit(&list, index, minimum);
    let again = status::decode(&list.encode()).expect("an encoded list decodes");
    assert_eq!(again, list, "the list changed on an encode and decode");
});
