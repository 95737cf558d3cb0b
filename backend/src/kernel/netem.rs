//! The `netem` queueing discipline through netlink: setting it as an interface's root
//! qdisc (RTM_NEWQDISC with NLM_F_CREATE | NLM_F_REPLACE, what `tc qdisc replace ... root
//! netem` sends), removing it (RTM_DELQDISC), and reading its options back.
//!
//! netlink-packet-route types the qdisc message and its kind but not netem's options, whose
//! TCA_OPTIONS is no plain nest: a `struct tc_netem_qopt` first, then netem's own
//! attributes (linux/pkt_sched.h). Those bytes are built and read here.

use futures::StreamExt;
use nslab_model::identity::LinkRef;
use nslab_model::netem::{Chance, Impairment};
use nslab_model::plan::DEFAULT_NETEM_LIMIT;
use rtnetlink::packet_core::{
    DefaultNla, NetlinkMessage, NetlinkPayload, NlasIterator, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST,
};
use rtnetlink::packet_route::tc::{TcAttribute, TcHandle, TcMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;

use super::error::KernelError;
use super::Kernel;

/// The qdisc's kind, as TCA_KIND names it.
pub(super) const KIND: &str = "netem";
const TCA_OPTIONS: u16 = 2;
/// `struct tc_netem_qopt`: latency, limit, loss, gap, duplicate, jitter (u32 each).
const QOPT_LEN: usize = 24;
const TCA_NETEM_CORR: u16 = 1;
const TCA_NETEM_REORDER: u16 = 3;
const TCA_NETEM_CORRUPT: u16 = 4;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;
/// The kernel's scheduler ticks are 64 ns (PSCHED_SHIFT 6): the unit of the 32-bit
/// latency and jitter, which the 64-bit attributes in nanoseconds override.
const PSCHED_SHIFT: u32 = 6;
/// Why a kernel without netem refuses an impairment (it answers ENOENT: "Specified qdisc
/// kind is unknown").
pub const NO_NETEM: &str = "this kernel has no netem queueing discipline (built without \
    CONFIG_NET_SCH_NETEM, or its module sch_netem is not loaded: `modprobe sch_netem`), \
    so it cannot impair links (ENOENT)";

impl Kernel {
    /// `tc qdisc replace dev NAME root netem ...`: adds the qdisc, or changes the netem
    /// already there. Every setting is sent, zero for what the lab does not ask, so a change
    /// made by hand is undone whole.
    pub(super) async fn set_netem(&self, link: &LinkRef, netem: &Impairment, what: String) -> Result<(), KernelError> {
        let index = self.index_of(&link.netns, &link.name).await?;
        let mut message = TcMessage::with_index(index as i32);
        message.header.parent = TcHandle::ROOT;
        message.attributes.push(TcAttribute::Kind(KIND.to_string()));
        message.attributes.push(TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, options(netem))));
        let mut request = NetlinkMessage::from(RouteNetlinkMessage::NewQueueDiscipline(message));
        request.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
        match self.request_acked(link, request, what.clone()).await {
            // The interface was found: what is missing is the qdisc kind.
            Err(KernelError::Refused { errno, .. }) if errno == nix::errno::Errno::ENOENT as i32 => {
                Err(KernelError::Netlink { what, message: NO_NETEM.to_string() })
            }
            result => result,
        }
    }

    /// `tc qdisc del dev NAME root`: the kernel puts the device's default qdisc back.
    pub(super) async fn clear_netem(&self, link: &LinkRef, what: String) -> Result<(), KernelError> {
        let index = self.index_of(&link.netns, &link.name).await?;
        let mut message = TcMessage::with_index(index as i32);
        message.header.parent = TcHandle::ROOT;
        let mut request = NetlinkMessage::from(RouteNetlinkMessage::DelQueueDiscipline(message));
        request.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        self.request_acked(link, request, what).await
    }

    /// Sends `request` in the namespace of `link` and waits for the kernel's answer.
    async fn request_acked(
        &self,
        link: &LinkRef,
        request: NetlinkMessage<RouteNetlinkMessage>,
        what: String,
    ) -> Result<(), KernelError> {
        let mut handle = self.connections.handle(&link.netns).await?;
        let mut answers = handle.request(request).map_err(|e| KernelError::netlink(what.clone(), e))?;
        while let Some(answer) = answers.next().await {
            if let NetlinkPayload::Error(error) = answer.payload {
                if error.code.is_some() {
                    return Err(KernelError::netlink(what, rtnetlink::Error::NetlinkError(error)));
                }
            }
        }
        Ok(())
    }
}

/// The TCA_OPTIONS of a netem qdisc with these settings, as `tc` builds them, with the
/// 64-bit delay and jitter and every optional attribute given (zero: none).
pub(super) fn options(netem: &Impairment) -> Vec<u8> {
    let delay = netem.delay_ns.unwrap_or(0);
    let jitter = netem.jitter_ns.unwrap_or(0);
    let chance = |chance: Option<Chance>| chance.map_or(0, |chance| chance.0);
    let reorder = chance(netem.reorder);
    let rate = netem.rate_bytes.unwrap_or(0);
    // netem reorders only with a gap: `tc` sets 1 (every other packet may go ahead).
    let gap = u32::from(reorder > 0);
    let mut bytes = Vec::with_capacity(128);
    let qopt = [
        ticks(delay),
        netem.limit.unwrap_or(DEFAULT_NETEM_LIMIT),
        chance(netem.loss),
        gap,
        chance(netem.duplicate),
        ticks(jitter),
    ];
    bytes.extend(qopt.iter().flat_map(|field| field.to_ne_bytes()));
    // No correlations: each packet's chances are independent.
    push_attribute(&mut bytes, TCA_NETEM_CORR, &u32s(&[0, 0, 0]));
    push_attribute(&mut bytes, TCA_NETEM_REORDER, &u32s(&[reorder, 0]));
    push_attribute(&mut bytes, TCA_NETEM_CORRUPT, &u32s(&[chance(netem.corrupt), 0]));
    // struct tc_netem_rate: rate, packet_overhead, cell_size, cell_overhead.
    push_attribute(&mut bytes, TCA_NETEM_RATE, &u32s(&[u32::try_from(rate).unwrap_or(u32::MAX), 0, 0, 0]));
    if rate > u64::from(u32::MAX) {
        push_attribute(&mut bytes, TCA_NETEM_RATE64, &rate.to_ne_bytes());
    }
    push_attribute(&mut bytes, TCA_NETEM_LATENCY64, &(delay as i64).to_ne_bytes());
    push_attribute(&mut bytes, TCA_NETEM_JITTER64, &(jitter as i64).to_ne_bytes());
    bytes
}

/// Reads a netem qdisc's TCA_OPTIONS (as the kernel dumps them) back into an impairment
/// with every field given: what the kernel holds, zero for what is off. None when the
/// bytes are no netem options.
pub(super) fn parse_options(bytes: &[u8]) -> Option<Impairment> {
    let field = |at: usize| u32_at(bytes, at * 4);
    let (latency, limit, loss, _gap, duplicate, jitter) =
        (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?, field(5)?);
    let mut found = Impairment {
        delay_ns: Some(u64::from(latency) << PSCHED_SHIFT),
        jitter_ns: Some(u64::from(jitter) << PSCHED_SHIFT),
        loss: Some(Chance(loss)),
        duplicate: Some(Chance(duplicate)),
        corrupt: Some(Chance(0)),
        reorder: Some(Chance(0)),
        rate_bytes: Some(0),
        limit: Some(limit),
    };
    let mut rate64 = None;
    for attribute in NlasIterator::new(&bytes[QOPT_LEN..]) {
        let attribute = attribute.ok()?;
        let value = attribute.value();
        match attribute.kind() {
            TCA_NETEM_REORDER => found.reorder = Some(Chance(u32_at(value, 0)?)),
            TCA_NETEM_CORRUPT => found.corrupt = Some(Chance(u32_at(value, 0)?)),
            TCA_NETEM_RATE => found.rate_bytes = Some(u64::from(u32_at(value, 0)?)),
            TCA_NETEM_RATE64 => rate64 = Some(u64_at(value)?),
            TCA_NETEM_LATENCY64 => found.delay_ns = Some((u64_at(value)? as i64).max(0) as u64),
            TCA_NETEM_JITTER64 => found.jitter_ns = Some((u64_at(value)? as i64).unsigned_abs()),
            _ => {}
        }
    }
    // The 32-bit rate saturates; the kernel then sends the whole one beside it.
    if let Some(rate) = rate64 {
        found.rate_bytes = found.rate_bytes.max(Some(rate));
    }
    Some(found)
}

/// 32-bit delays in the kernel's ticks, saturated (the 64-bit attributes carry the whole).
fn ticks(ns: u64) -> u32 {
    u32::try_from(ns >> PSCHED_SHIFT).unwrap_or(u32::MAX)
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|value| value.to_ne_bytes()).collect()
}

/// Appends one netlink attribute, padded to 4 bytes.
fn push_attribute(bytes: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let length = u16::try_from(4 + value.len()).expect("netem attributes are small");
    bytes.extend(length.to_ne_bytes());
    bytes.extend(kind.to_ne_bytes());
    bytes.extend(value);
    bytes.resize(bytes.len().next_multiple_of(4), 0);
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(bytes.get(..8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nslab_model::netem::Netem;
    use nslab_model::plan::netem_as_kernel_reports;

    fn impairment(json: &str) -> Impairment {
        serde_json::from_str::<Netem>(json).unwrap().parse().unwrap()
    }

    #[test]
    fn options_read_back_as_the_kernel_reports_them() {
        let cases = [
            r#"{"delay": "50ms", "jitter": "10ms", "loss": "1%", "rate": "10mbit", "limit": 500}"#,
            r#"{"loss": "30%", "duplicate": "0.5%", "corrupt": "0.1%"}"#,
            r#"{"delay": "100ms", "reorder": "25%"}"#,
            r#"{"delay": "1.5s", "rate": "100gbit"}"#,
            r#"{"delay": "3s", "jitter": "1us"}"#,
        ];
        for json in cases {
            let wanted = impairment(json);
            assert_eq!(parse_options(&options(&wanted)), Some(netem_as_kernel_reports(&wanted)), "{json}");
        }
    }

    #[test]
    fn the_fixed_part_is_tc_netem_qopt_and_a_rate_beyond_32_bits_goes_whole_beside_it() {
        let bytes = options(&impairment(r#"{"delay": "64us", "loss": "100%", "reorder": "1%", "rate": "40gbit"}"#));
        let fields: Vec<u32> = (0..6).map(|at| u32_at(&bytes, at * 4).unwrap()).collect();
        // latency in 64 ns ticks, the default limit, loss, a gap of 1 for reorder, no
        // duplicates, no jitter.
        assert_eq!(fields, [1000, 1000, u32::MAX, 1, 0, 0]);
        let kinds: Vec<u16> = NlasIterator::new(&bytes[QOPT_LEN..]).map(|nla| nla.unwrap().kind()).collect();
        assert_eq!(
            kinds,
            [
                TCA_NETEM_CORR,
                TCA_NETEM_REORDER,
                TCA_NETEM_CORRUPT,
                TCA_NETEM_RATE,
                TCA_NETEM_RATE64,
                TCA_NETEM_LATENCY64,
                TCA_NETEM_JITTER64
            ]
        );
        assert_eq!(parse_options(&bytes).unwrap().rate_bytes, Some(5_000_000_000));
    }

    /// What iproute2 6.1 sent for `tc qdisc replace dev v0 root netem delay 50ms 10ms loss
    /// 1% duplicate 0.5% corrupt 0.1% reorder 25% rate 10mbit limit 500` (read with strace
    /// on x86-64): the fixed part and the attributes it gives agree byte for byte; nslab
    /// adds no correlations and the 64-bit delay and jitter.
    #[test]
    #[cfg(target_endian = "little")]
    fn the_bytes_agree_with_those_tc_sends() {
        let tc: &[u8] =
            b"\xc2\xeb\x0b\x00\xf4\x01\x00\x00\x29\x5c\x8f\x02\x01\x00\x00\x00\x14\xae\x47\x01\x5a\x62\x02\x00\
            \x0c\x00\x03\x00\x00\x00\x00\x40\x00\x00\x00\x00\
            \x0c\x00\x04\x00\x37\x89\x41\x00\x00\x00\x00\x00\
            \x14\x00\x06\x00\xd0\x12\x13\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        let ours = options(&impairment(
            r#"{"delay": "50ms", "jitter": "10ms", "loss": "1%", "duplicate": "0.5%", "corrupt": "0.1%",
                "reorder": "25%", "rate": "10mbit", "limit": 500}"#,
        ));
        assert_eq!(ours[..QOPT_LEN], tc[..QOPT_LEN]);
        let attributes = |bytes: &[u8]| -> Vec<(u16, Vec<u8>)> {
            let nlas = NlasIterator::new(&bytes[QOPT_LEN..]).map(|nla| nla.unwrap());
            nlas.map(|nla| (nla.kind(), nla.value().to_vec())).collect()
        };
        let ours = attributes(&ours);
        for attribute in attributes(tc) {
            assert!(ours.contains(&attribute), "{attribute:?} is not in {ours:?}");
        }
    }

    #[test]
    fn options_of_an_old_kernel_read_from_ticks_and_short_bytes_are_none() {
        let qopt = u32s(&[781_250, 1000, 0, 0, 0, 0]);
        assert_eq!(parse_options(&qopt).unwrap().delay_ns, Some(50_000_000));
        assert_eq!(parse_options(&qopt[..20]), None);
    }
}
