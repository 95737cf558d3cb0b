//! Link impairments (the kernel's `netem` queueing discipline): how a lab writes them (as
//! `tc` writes them: `"50ms"`, `"1%"`, `"10mbit"`), the typed values they mean, and how they
//! read back as `tc` arguments and as a short badge for the canvas.
//!
//! The typed values are the kernel's own units (nanoseconds, a probability out of
//! `u32::MAX`, bytes a second), so that what the kernel reports compares equal to what the
//! lab asked for, and a re-apply plans nothing.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An impairment as a lab file writes it. Every field is optional; an empty one impairs
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Netem {
    /// Added delay, e.g. `50ms`, `1.5s`, `200us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// Random variation of the delay, plus or minus (`10ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    /// Share of packets dropped (`1%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// Share of packets sent twice (`0.5%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<String>,
    /// Share of packets with a bit flipped (`0.1%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<String>,
    /// Share of packets sent at once, ahead of the delayed others (`25%`; needs a delay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<String>,
    /// Bandwidth, e.g. `10mbit`, `512kbit`, `1gbit` (or bytes: `1mbps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Packets the queue holds before it drops (the kernel's default is 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub limit: Option<u32>,
}

/// A share of packets, as the kernel keeps it: a probability out of `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chance(pub u32);

impl Chance {
    pub fn from_percent(percent: f64) -> Chance {
        Chance((percent / 100.0 * f64::from(u32::MAX)).round() as u32)
    }

    pub fn percent(self) -> f64 {
        f64::from(self.0) / f64::from(u32::MAX) * 100.0
    }
}

impl fmt::Display for Chance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", trimmed(self.percent(), 4))
    }
}

/// What an impairment does, in the kernel's units. `None`: not asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impairment {
    pub delay_ns: Option<u64>,
    pub jitter_ns: Option<u64>,
    pub loss: Option<Chance>,
    pub duplicate: Option<Chance>,
    pub corrupt: Option<Chance>,
    pub reorder: Option<Chance>,
    pub rate_bytes: Option<u64>,
    pub limit: Option<u32>,
}

/// A field of `Netem` that does not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The longest delay or jitter a lab may ask for.
const MAX_TIME_NS: u64 = 3_600 * 1_000_000_000;

impl Netem {
    /// Reads every field, or says what is wrong with each that does not read.
    pub fn parse(&self) -> Result<Impairment, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut read = |field: &'static str, text: &Option<String>, parse: fn(&str) -> Result<u64, String>| {
            let text = text.as_deref()?;
            parse(text).map_err(|message| errors.push(FieldError { field, message })).ok()
        };
        let delay_ns = read("delay", &self.delay, parse_time);
        let jitter_ns = read("jitter", &self.jitter, parse_time);
        let loss = read("loss", &self.loss, parse_chance);
        let duplicate = read("duplicate", &self.duplicate, parse_chance);
        let corrupt = read("corrupt", &self.corrupt, parse_chance);
        let reorder = read("reorder", &self.reorder, parse_chance);
        let rate_bytes = read("rate", &self.rate, parse_rate);
        if self.limit == Some(0) {
            errors.push(FieldError {
                field: "limit",
                message: "a queue of 0 packets drops everything: give 1 or more".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let chance = |value: Option<u64>| value.map(|v| Chance(v as u32));
        Ok(Impairment {
            delay_ns,
            jitter_ns,
            loss: chance(loss),
            duplicate: chance(duplicate),
            corrupt: chance(corrupt),
            reorder: chance(reorder),
            rate_bytes,
            limit: self.limit,
        })
    }
}

impl Impairment {
    /// Whether it asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Impairment::default()
    }

    /// The impairment as a lab writes it, in the shortest words that read back as exactly
    /// these values (what scan writes of a netem made by hand). What the kernel fills in by
    /// itself (zeros, the default queue of 1000 packets) is left out.
    pub fn to_netem(&self) -> Netem {
        let some = |value: Option<u64>| value.filter(|value| *value != 0);
        let chance = |chance: Option<Chance>| {
            chance.filter(|c| c.0 != 0).map(|c| exact(u64::from(c.0), percent_words, parse_chance))
        };
        Netem {
            delay: some(self.delay_ns).map(|ns| exact(ns, time_words, parse_time)),
            jitter: some(self.jitter_ns).map(|ns| exact(ns, time_words, parse_time)),
            loss: chance(self.loss),
            duplicate: chance(self.duplicate),
            corrupt: chance(self.corrupt),
            reorder: chance(self.reorder),
            rate: some(self.rate_bytes).map(|bytes| exact(bytes, rate_words, parse_rate)),
            limit: self.limit.filter(|limit| *limit != DEFAULT_LIMIT),
        }
    }

    /// The `netem` arguments of `tc qdisc ... root netem ARGS`, in the order `tc` takes them.
    pub fn tc_args(&self) -> String {
        let mut args = Vec::new();
        if let Some(limit) = self.limit {
            args.push(format!("limit {limit}"));
        }
        if self.delay_ns.is_some() || self.jitter_ns.is_some() {
            let mut delay = format!("delay {}", time(self.delay_ns.unwrap_or(0)));
            if let Some(jitter) = self.jitter_ns {
                delay.push_str(&format!(" {}", time(jitter)));
            }
            args.push(delay);
        }
        let chances =
            [("loss", self.loss), ("duplicate", self.duplicate), ("reorder", self.reorder), ("corrupt", self.corrupt)];
        args.extend(chances.iter().filter_map(|(word, chance)| chance.map(|chance| format!("{word} {chance}"))));
        if let Some(rate) = self.rate_bytes {
            args.push(format!("rate {}", rate_text(rate)));
        }
        args.join(" ")
    }

    /// A few words for the canvas: `50ms ±10ms · 1% loss · 10Mbit`.
    pub fn badge(&self) -> String {
        let mut parts = Vec::new();
        match (self.delay_ns, self.jitter_ns) {
            (Some(delay), Some(jitter)) => parts.push(format!("{} ±{}", time(delay), time(jitter))),
            (Some(delay), None) => parts.push(time(delay)),
            (None, Some(jitter)) => parts.push(format!("±{}", time(jitter))),
            (None, None) => {}
        }
        let chances =
            [("loss", self.loss), ("dup", self.duplicate), ("reorder", self.reorder), ("corrupt", self.corrupt)];
        parts.extend(chances.iter().filter_map(|(word, chance)| chance.map(|chance| format!("{chance} {word}"))));
        if let Some(rate) = self.rate_bytes {
            parts.push(rate_text(rate));
        }
        parts.join(" · ")
    }
}

/// The packets a netem queue holds when a lab asks for no `limit` (as `tc` sends it).
pub const DEFAULT_LIMIT: u32 = 1000;

/// The first of `words(value, decimals)` for 0 to 9 decimals that `parse` reads back as
/// `value`; the last of them otherwise.
fn exact(value: u64, words: fn(u64, usize) -> String, parse: fn(&str) -> Result<u64, String>) -> String {
    (0..10)
        .map(|decimals| words(value, decimals))
        .find(|text| parse(text) == Ok(value))
        .unwrap_or_else(|| words(value, 9))
}

fn time_words(ns: u64, decimals: usize) -> String {
    match ns {
        ns if ns % 1000 != 0 && decimals == 9 => format!("{ns}ns"),
        ns if ns >= 1_000_000_000 => format!("{}s", trimmed(ns as f64 / 1e9, decimals)),
        ns if ns >= 1_000_000 => format!("{}ms", trimmed(ns as f64 / 1e6, decimals)),
        ns => format!("{}us", trimmed(ns as f64 / 1e3, decimals)),
    }
}

fn percent_words(chance: u64, decimals: usize) -> String {
    format!("{}%", trimmed(Chance(chance as u32).percent(), decimals))
}

fn rate_words(bytes: u64, decimals: usize) -> String {
    match decimals {
        9 => format!("{}bit", bytes * 8),
        _ => {
            let text = rate_text(bytes);
            let unit_at = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
            let scale = match &text[unit_at..] {
                "Tbit" => 1e12,
                "Gbit" => 1e9,
                "Mbit" => 1e6,
                "Kbit" => 1e3,
                _ => 1.0,
            };
            format!("{}{}", trimmed(bytes as f64 * 8.0 / scale, decimals), text[unit_at..].to_ascii_lowercase())
        }
    }
}

/// A time as `tc` takes it: a number and a unit (`50ms`, `1.5s`, `200us`), in nanoseconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(text, "a time", "50ms")?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" => 1e9,
        "ms" | "msec" | "msecs" => 1e6,
        "us" | "usec" | "usecs" => 1e3,
        "ns" | "nsec" | "nsecs" => 1.0,
        _ => return Err(format!("`{text}`: `{unit}` is not a unit of time: use s, ms or us (e.g. `50ms`)")),
    };
    let ns = (number * scale).round();
    if ns > MAX_TIME_NS as f64 {
        return Err(format!("`{text}` is longer than an hour"));
    }
    Ok(ns as u64)
}

/// A share of packets (`1%`, `0.5%`), as a probability out of `u32::MAX` (see `Chance`).
pub fn parse_chance(text: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(text, "a percentage", "1%")?;
    if unit != "%" {
        return Err(format!("`{text}` is not a percentage: write it with `%`, e.g. `{}%`", trimmed(number, 4)));
    }
    if !(0.0..=100.0).contains(&number) {
        return Err(format!("`{text}` is not between 0% and 100%"));
    }
    Ok(u64::from(Chance::from_percent(number).0))
}

/// A rate as `tc` takes it (`10mbit`, `512kbit`, `1gbit`; `1mbps` is in bytes), in bytes a
/// second, as the kernel keeps it.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(text, "a rate", "10mbit")?;
    let unit = unit.to_ascii_lowercase();
    let (prefix, per_byte) = match (unit.strip_suffix("bit"), unit.strip_suffix("bps")) {
        (Some(prefix), _) => (prefix.to_string(), false),
        (None, Some(prefix)) => (prefix.to_string(), true),
        _ => {
            return Err(format!(
                "`{text}`: `{unit}` is not a unit of rate: use bit, kbit, mbit or gbit (e.g. `10mbit`)"
            ))
        }
    };
    let scale = match prefix.as_str() {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "ki" => 1024.0,
        "mi" => 1024.0 * 1024.0,
        "gi" => 1024.0 * 1024.0 * 1024.0,
        "ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "`{text}`: `{unit}` is not a unit of rate: use bit, kbit, mbit or gbit (e.g. `10mbit`)"
            ))
        }
    };
    let bytes = (number * scale / if per_byte { 1.0 } else { 8.0 }).floor();
    if bytes < 1.0 {
        return Err(format!("`{text}` is no rate at all: a link needs at least 8bit a second"));
    }
    Ok(bytes as u64)
}

/// Splits `12.5ms` into 12.5 and `ms`, refusing what is no number with a unit; the
/// refusal names `what` and shows `example`.
fn split_unit<'a>(text: &'a str, what: &str, example: &str) -> Result<(f64, &'a str), String> {
    let trimmed_text = text.trim();
    let end = trimmed_text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed_text.len());
    let (number, unit) = trimmed_text.split_at(end);
    let Ok(value) = number.parse::<f64>() else {
        return Err(format!("`{text}` is not {what}: write a number and its unit, e.g. `{example}`"));
    };
    if unit.is_empty() {
        return Err(format!("`{text}` has no unit: write e.g. `{number}{}`", unit_of(example)));
    }
    if unit.starts_with(char::is_whitespace) {
        return Err(format!("`{text}`: write it without the space, `{number}{}`", unit.trim()));
    }
    Ok((value, unit))
}

/// The unit of an example such as `50ms`.
fn unit_of(example: &str) -> &str {
    example.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
}

/// A time as `tc` prints it: `50ms`, `1.5s`, `200us`.
pub fn time(ns: u64) -> String {
    let ns = ns as f64;
    if ns >= 1e9 {
        format!("{}s", trimmed(ns / 1e9, 3))
    } else if ns >= 1e6 {
        format!("{}ms", trimmed(ns / 1e6, 3))
    } else {
        format!("{}us", trimmed(ns / 1e3, 3))
    }
}

/// A rate in bytes a second, written in bits as `tc` prints it: `10Mbit`, `512Kbit`.
pub fn rate_text(bytes: u64) -> String {
    let bits = bytes as f64 * 8.0;
    for (scale, unit) in [(1e12, "Tbit"), (1e9, "Gbit"), (1e6, "Mbit"), (1e3, "Kbit")] {
        if bits >= scale {
            return format!("{}{unit}", trimmed(bits / scale, 3));
        }
    }
    format!("{}bit", trimmed(bits, 0))
}

/// A number with at most `decimals` decimals and no trailing zeros.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn netem(json: &str) -> Netem {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn times_read_as_tc_reads_them() {
        assert_eq!(parse_time("50ms"), Ok(50_000_000));
        assert_eq!(parse_time("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_time("200us"), Ok(200_000));
        assert_eq!(parse_time("10MS"), Ok(10_000_000));
        assert_eq!(parse_time("50 ms").unwrap_err(), "`50 ms`: write it without the space, `50ms`");
        assert_eq!(parse_time("50").unwrap_err(), "`50` has no unit: write e.g. `50ms`");
        assert!(parse_time("fast").unwrap_err().contains("is not a time"));
        assert!(parse_time("5m").unwrap_err().contains("not a unit of time"));
        assert!(parse_time("2h").unwrap_err().contains("not a unit of time"));
        assert!(parse_time("4000s").unwrap_err().contains("longer than an hour"));
    }

    #[test]
    fn shares_are_percentages_between_0_and_100() {
        assert_eq!(parse_chance("100%"), Ok(u64::from(u32::MAX)));
        assert_eq!(parse_chance("0%"), Ok(0));
        assert_eq!(Chance(parse_chance("1%").unwrap() as u32).to_string(), "1%");
        assert_eq!(Chance(parse_chance("0.5%").unwrap() as u32).to_string(), "0.5%");
        assert!(parse_chance("101%").unwrap_err().contains("between 0% and 100%"));
        assert_eq!(parse_chance("0.3").unwrap_err(), "`0.3` has no unit: write e.g. `0.3%`");
        assert!(parse_chance("-1%").unwrap_err().contains("is not a percentage"));
    }

    #[test]
    fn rates_are_bits_unless_said_bytes() {
        assert_eq!(parse_rate("10mbit"), Ok(1_250_000));
        assert_eq!(parse_rate("512kbit"), Ok(64_000));
        assert_eq!(parse_rate("1Gbit"), Ok(125_000_000));
        assert_eq!(parse_rate("1mbps"), Ok(1_000_000));
        assert_eq!(parse_rate("1mibit"), Ok(131_072));
        assert!(parse_rate("0mbit").unwrap_err().contains("no rate at all"));
        assert!(parse_rate("10megs").unwrap_err().contains("not a unit of rate"));
        assert_eq!(rate_text(1_250_000), "10Mbit");
        assert_eq!(rate_text(64_000), "512Kbit");
    }

    #[test]
    fn an_impairment_reads_back_as_tc_arguments_and_a_badge() {
        let wanted = netem(r#"{"delay": "50ms", "jitter": "10ms", "loss": "1%", "rate": "10mbit", "limit": 500}"#);
        let impairment = wanted.parse().unwrap();
        assert_eq!(impairment.tc_args(), "limit 500 delay 50ms 10ms loss 1% rate 10Mbit");
        assert_eq!(impairment.badge(), "50ms ±10ms · 1% loss · 10Mbit");
        let lossy = netem(r#"{"loss": "30%", "duplicate": "0.5%", "corrupt": "0.1%"}"#).parse().unwrap();
        assert_eq!(lossy.tc_args(), "loss 30% duplicate 0.5% corrupt 0.1%");
        assert!(Netem::default().parse().unwrap().is_empty());
    }

    #[test]
    fn every_field_that_does_not_read_is_named() {
        let errors = netem(r#"{"delay": "50 ms", "loss": "120%", "limit": 0}"#).parse().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["delay", "loss", "limit"]);
    }

    #[test]
    fn what_the_kernel_holds_is_written_back_in_words_that_read_as_exactly_it() {
        let by_hand = Impairment {
            delay_ns: Some(1_234_567),
            jitter_ns: Some(0),
            loss: Some(Chance(42_949_672)),
            duplicate: Some(Chance(0)),
            corrupt: None,
            reorder: Some(Chance::from_percent(25.0)),
            rate_bytes: Some(125_001),
            limit: Some(1000),
        };
        let words = by_hand.to_netem();
        assert_eq!(words.delay.as_deref(), Some("1.234567ms"));
        assert_eq!(words.reorder.as_deref(), Some("25%"));
        assert_eq!((words.jitter.as_deref(), words.duplicate.as_deref(), words.limit), (None, None, None));
        let read = words.parse().unwrap();
        assert_eq!(read.delay_ns, by_hand.delay_ns);
        assert_eq!(read.loss, by_hand.loss);
        assert_eq!(read.reorder, by_hand.reorder);
        assert_eq!(read.rate_bytes, by_hand.rate_bytes);
        let plain = netem(r#"{"delay": "50ms", "loss": "1%", "rate": "10mbit", "limit": 20}"#);
        assert_eq!(
            plain.parse().unwrap().to_netem(),
            netem(r#"{"delay": "50ms", "loss": "1%", "rate": "10mbit", "limit": 20}"#)
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = serde_json::from_str::<Netem>(r#"{"latency": "5ms"}"#).unwrap_err().to_string();
        assert!(error.contains("unknown field `latency`"), "{error}");
    }
}
