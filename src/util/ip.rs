//! IP addresses for `cidr` patterns and for exact patterns that name an address.
//!
//! Addresses are read the way the reference implementation reads them (it
//! goes through Java's `InetAddress`): IPv4 octets may carry leading zeros
//! (read as decimal), IPv6 is compared after canonicalisation, and an
//! IPv4-mapped IPv6 address written in hex (`::ffff:a00:1`) is the IPv4
//! address. The dotted mapped form (`::ffff:10.0.0.1`) is not an address.

use std::net::Ipv6Addr;

/// An address as an ordered key: the family first, so IPv4 and IPv6 never
/// compare equal and a range never spans both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpKey(pub u8, pub u128);

/// The address family of a key or range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4
    V4,
    /// IPv6
    V6,
}

/// Parses an address; `None` if `text` is not one.
pub fn parse(text: &str) -> Option<(Family, u128)> {
    if looks_like_v4(text) {
        return parse_v4(text).map(|a| (Family::V4, u128::from(a)));
    }
    if looks_like_v6(text) {
        let addr: Ipv6Addr = text.parse().ok()?;
        let bits = u128::from(addr);
        if bits >> 32 == 0xffff {
            return Some((Family::V4, bits & 0xffff_ffff));
        }
        return Some((Family::V6, bits));
    }
    None
}

/// The ordered key of a parsed address.
pub fn key(family: Family, bits: u128) -> IpKey {
    match family {
        Family::V4 => IpKey(4, bits),
        Family::V6 => IpKey(6, bits),
    }
}

fn looks_like_v4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        parts += 1;
    }
    parts == 4
}

fn looks_like_v6(text: &str) -> bool {
    text.contains(':') && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

fn parse_v4(text: &str) -> Option<u32> {
    let mut out = 0u32;
    for part in text.split('.') {
        let trimmed = part.trim_start_matches('0');
        if trimmed.len() > 3 {
            return None;
        }
        let octet: u32 = if trimmed.is_empty() {
            0
        } else {
            trimmed.parse().ok()?
        };
        if octet > 255 {
            return None;
        }
        out = (out << 8) | octet;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_families() {
        assert_eq!(parse("10.0.0.1"), Some((Family::V4, 0x0a00_0001)));
        assert_eq!(parse("010.1.2.3"), Some((Family::V4, 0x0a01_0203)));
        assert_eq!(parse("256.1.1.1"), None);
        assert_eq!(parse("::ffff:a00:1"), Some((Family::V4, 0x0a00_0001)));
        assert_eq!(parse("::ffff:10.0.0.1"), None);
        assert_eq!(parse("2001:DB8:0:0:0:0:0:1"), parse("2001:db8::1"));
        assert_eq!(parse("10.0.0.1:80"), None);
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("1.2.3"), None);
    }

    #[test]
    fn families_do_not_collide() {
        let (f4, a4) = parse("0.0.0.1").unwrap();
        let (f6, a6) = parse("::1").unwrap();
        assert_ne!(key(f4, a4), key(f6, a6));
    }
}
