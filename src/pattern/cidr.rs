//! `cidr`: an IPv4 or IPv6 network.

use super::PatternError;
use super::operator::operator_error;
use crate::util::ip::{self, Family, IpKey};

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct IpRange {
    /// Lowest address.
    pub low: IpKey,
    /// Highest address.
    pub high: IpKey,
}

impl IpRange {
    /// Parses `address/bits`. Host bits need not be zero; `/32` (IPv4) and
    /// `/128` (IPv6) are single addresses.
    pub(super) fn parse(text: &str, pointer: &str) -> Result<IpRange, PatternError> {
        let mut parts = text.split('/');
        let (Some(address), Some(bits), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(operator_error(
                pointer,
                format!("malformed CIDR \"{text}\": exactly one '/' is required"),
            ));
        };
        let bits: u32 = bits.parse().map_err(|_| {
            operator_error(
                pointer,
                format!("malformed CIDR \"{text}\": the mask must be a non-negative integer"),
            )
        })?;
        let Some((family, value)) = ip::parse(address) else {
            return Err(operator_error(
                pointer,
                format!("malformed CIDR \"{text}\": \"{address}\" is not an IP address"),
            ));
        };
        let written_v6 = address.contains(':');
        let width = if written_v6 { 128 } else { 32 };
        if bits > width {
            return Err(operator_error(
                pointer,
                format!(
                    "malformed CIDR \"{text}\": an {} mask has at most {width} bits",
                    if written_v6 { "IPv6" } else { "IPv4" }
                ),
            ));
        }
        // An IPv4-mapped IPv6 network is an IPv4 network when it covers only mapped addresses.
        let (width, bits) = match (family, written_v6) {
            (Family::V4, true) if bits >= 96 => (32, bits - 96),
            (Family::V4, true) => {
                return Err(operator_error(
                    pointer,
                    format!("CIDR \"{text}\" mixes IPv4-mapped and IPv6 addresses"),
                ));
            }
            _ => (width, bits),
        };
        let host_bits = width - bits;
        let host_mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Ok(IpRange {
            low: ip::key(family, value & !host_mask),
            high: ip::key(family, value | host_mask),
        })
    }
}
