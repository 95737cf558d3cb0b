//! The capture filter: a small language in tcpdump's words, parsed here so that the
//! server and the editor agree on it (the editor shows a mistake at its place before it
//! asks). `icmp`, `arp`, `tcp port 80`, `host 10.0.0.2`, `udp and port 53`, `not arp`,
//! `src host fd00::1 or (tcp and dst port 22)`.
//!
//! ```text
//! filter  := or?                      (empty: every packet)
//! or      := and (("or" | "||") and)*
//! and     := unary (("and" | "&&") unary)*
//! unary   := ("not" | "!") unary | "(" or ")" | primitive
//! primitive := PROTO [dir] ("port" NUMBER | "host" ADDRESS)? | dir? ("port" NUMBER | "host" ADDRESS)
//! PROTO   := arp | ip | ip6 | icmp | icmp6 | tcp | udp
//! dir     := src | dst
//! ```

use std::fmt;
use std::net::IpAddr;

use super::packet::{CapturedPacket, Protocol};

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// A parsed filter; `Filter::default()` lets every packet through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter(Option<Expr>);

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Proto(Proto),
    Host(Option<Dir>, IpAddr),
    Port(Option<Dir>, u16),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Proto {
    Arp,
    Ip,
    Ip6,
    Icmp,
    Icmp6,
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Src,
    Dst,
}

/// A filter that does not parse: where (the column of the character, from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

/// Parses a filter; blank text is the filter that lets everything through.
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    let tokens = tokenize(text);
    let mut parser = Parser { tokens: &tokens, next: 0, end: text.chars().count() + 1 };
    if tokens.is_empty() {
        return Ok(Filter(None));
    }
    let expr = parser.or()?;
    match parser.peek() {
        None => Ok(Filter(Some(expr))),
        Some(token) if token.text == ")" => Err(parser.error_at(token, "this `)` has no `(` before it")),
        Some(token) => Err(parser.error_at(token, format!("expected `and` or `or` before `{}`", token.text))),
    }
}

impl Filter {
    pub fn is_everything(&self) -> bool {
        self.0.is_none()
    }

    pub fn matches(&self, packet: &CapturedPacket) -> bool {
        self.0.as_ref().is_none_or(|expr| expr.matches(packet))
    }
}

impl Expr {
    fn matches(&self, packet: &CapturedPacket) -> bool {
        let fields = &packet.fields;
        match self {
            Expr::Proto(proto) => match proto {
                Proto::Arp => packet.protocol == Protocol::Arp,
                Proto::Ip => fields.ethertype == ETHERTYPE_IPV4,
                Proto::Ip6 => fields.ethertype == ETHERTYPE_IPV6,
                Proto::Icmp => packet.protocol == Protocol::Icmp,
                Proto::Icmp6 => packet.protocol == Protocol::Icmp && fields.ethertype == ETHERTYPE_IPV6,
                Proto::Tcp => packet.protocol == Protocol::Tcp,
                Proto::Udp => packet.protocol == Protocol::Udp,
            },
            Expr::Host(dir, address) => either(*dir, fields.src == Some(*address), fields.dst == Some(*address)),
            Expr::Port(dir, port) => either(*dir, fields.src_port == Some(*port), fields.dst_port == Some(*port)),
            Expr::Not(inner) => !inner.matches(packet),
            Expr::And(left, right) => left.matches(packet) && right.matches(packet),
            Expr::Or(left, right) => left.matches(packet) || right.matches(packet),
        }
    }
}

fn either(dir: Option<Dir>, src: bool, dst: bool) -> bool {
    match dir {
        Some(Dir::Src) => src,
        Some(Dir::Dst) => dst,
        None => src || dst,
    }
}

struct Token<'a> {
    text: &'a str,
    column: usize,
}

/// Words (ASCII letters, digits, `.`, `:`, `-`, `_`) and the punctuation `(`, `)`, `!`,
/// `&&`, `||`; any other character is a token of its own (and no filter word). ASCII
/// only: Unicode's tables of letters would cost the editor kilobytes for nothing.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((column, (start, c))) = chars.next() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let mut end = start + c.len_utf8();
        let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_');
        if word(c) {
            while let Some(&(_, (at, next))) = chars.peek() {
                if !word(next) {
                    break;
                }
                end = at + next.len_utf8();
                chars.next();
            }
        } else if matches!(c, '&' | '|') && chars.peek().is_some_and(|&(_, (_, next))| next == c) {
            chars.next();
            end += 1;
        }
        tokens.push(Token { text: &text[start..end], column: column + 1 });
    }
    tokens
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    next: usize,
    /// The column just past the text, where "expected ..." at the end points.
    end: usize,
}

impl<'t, 'a> Parser<'t, 'a> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.next)
    }

    fn take_if(&mut self, words: &[&str]) -> bool {
        let found = self.peek().is_some_and(|token| words.iter().any(|word| token.text.eq_ignore_ascii_case(word)));
        if found {
            self.next += 1;
        }
        found
    }

    fn error_at(&self, token: &Token, message: impl Into<String>) -> FilterError {
        FilterError { column: token.column, message: message.into() }
    }

    /// An error at the next token, or at the end when there is none.
    fn expected(&self, what: &str) -> FilterError {
        match self.peek() {
            Some(token) => self.error_at(token, format!("expected {what}, not `{}`", token.text)),
            None => FilterError { column: self.end, message: format!("expected {what}") },
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.take_if(&["or", "||"]) {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.take_if(&["and", "&&"]) {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.take_if(&["not", "!"]) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.take_if(&["("]) {
            let inner = self.or()?;
            if !self.take_if(&[")"]) {
                return Err(self.expected("`)`"));
            }
            return Ok(inner);
        }
        self.primitive()
    }

    fn primitive(&mut self) -> Result<Expr, FilterError> {
        const WHAT: &str = "a protocol (`arp`, `icmp`, `tcp`, ...), `host ADDRESS` or `port NUMBER`";
        let Some(token) = self.peek() else { return Err(self.expected(WHAT)) };
        let proto = proto_named(token.text);
        if let Some(proto) = proto {
            self.next += 1;
            let ends_here =
                !self.peek().is_some_and(|t| matches!(lower(t.text).as_str(), "src" | "dst" | "host" | "port"));
            if ends_here {
                return Ok(Expr::Proto(proto));
            }
        }
        let dir = if self.take_if(&["src"]) {
            Some(Dir::Src)
        } else if self.take_if(&["dst"]) {
            Some(Dir::Dst)
        } else {
            None
        };
        let qualifier = if self.take_if(&["host"]) {
            self.host(dir)?
        } else if self.take_if(&["port"]) {
            self.port(dir)?
        } else if proto.is_some() || dir.is_some() {
            return Err(self.expected("`host` or `port`"));
        } else {
            return Err(self.error_at(token, format!("`{}` is not a filter word; expected {WHAT}", token.text)));
        };
        Ok(match proto {
            Some(proto) => Expr::And(Box::new(Expr::Proto(proto)), Box::new(qualifier)),
            None => qualifier,
        })
    }

    fn host(&mut self, dir: Option<Dir>) -> Result<Expr, FilterError> {
        let Some(token) = self.peek().filter(|token| !is_keyword(token.text)) else {
            return Err(self.expected("an IPv4 or IPv6 address after `host`"));
        };
        let address = token
            .text
            .parse::<IpAddr>()
            .map_err(|_| self.error_at(token, format!("`{}` is not an IPv4 or IPv6 address", token.text)))?;
        self.next += 1;
        Ok(Expr::Host(dir, address))
    }

    fn port(&mut self, dir: Option<Dir>) -> Result<Expr, FilterError> {
        let Some(token) = self.peek().filter(|token| token.text.starts_with(|c: char| c.is_ascii_digit())) else {
            return Err(self.expected("a port number after `port`"));
        };
        let port = token
            .text
            .parse::<u16>()
            .map_err(|_| self.error_at(token, format!("`{}` is not a port number (0 to 65535)", token.text)))?;
        self.next += 1;
        Ok(Expr::Port(dir, port))
    }
}

fn lower(text: &str) -> String {
    text.to_ascii_lowercase()
}

fn proto_named(word: &str) -> Option<Proto> {
    Some(match lower(word).as_str() {
        "arp" => Proto::Arp,
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    })
}

fn is_keyword(word: &str) -> bool {
    matches!(
        lower(word).as_str(),
        "and" | "or" | "not" | "src" | "dst" | "host" | "port" | "(" | ")" | "!" | "&&" | "||"
    ) || proto_named(word).is_some()
}

#[cfg(test)]
mod tests {
    use super::super::decode::decode;
    use super::super::packet::Direction;
    use super::*;
    use etherparse::PacketBuilder;

    const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn icmp() -> CapturedPacket {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(A, B)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .icmpv4_echo_request(1, 1)
            .write(&mut out, &[])
            .unwrap();
        decode(&out, out.len() as u32, Direction::Out, 0)
    }

    fn tcp(from: u16, to: u16) -> CapturedPacket {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(A, B)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 3], 64)
            .tcp(from, to, 1, 100)
            .write(&mut out, &[])
            .unwrap();
        decode(&out, out.len() as u32, Direction::Out, 0)
    }

    fn udp6(from: u16, to: u16) -> CapturedPacket {
        let mut out = Vec::new();
        let (a, b) =
            ("fd00::1".parse::<std::net::Ipv6Addr>().unwrap(), "fd00::2".parse::<std::net::Ipv6Addr>().unwrap());
        PacketBuilder::ethernet2(A, B).ipv6(a.octets(), b.octets(), 64).udp(from, to).write(&mut out, &[]).unwrap();
        decode(&out, out.len() as u32, Direction::In, 0)
    }

    fn passes(filter: &str, packet: &CapturedPacket) -> bool {
        parse_filter(filter).unwrap_or_else(|error| panic!("`{filter}`: {error}")).matches(packet)
    }

    #[test]
    fn protocols_hosts_and_ports() {
        let (ping, web, dns) = (icmp(), tcp(40000, 80), udp6(5353, 53));
        assert!(passes("", &ping) && passes("   ", &web));
        assert!(passes("icmp", &ping) && !passes("icmp", &web) && !passes("icmp6", &ping));
        assert!(passes("tcp port 80", &web) && !passes("tcp port 81", &web) && !passes("udp port 80", &web));
        assert!(passes("host 10.0.0.2", &ping) && !passes("host 10.0.0.2", &web));
        assert!(passes("udp and port 53", &dns) && passes("ip6 and udp dst port 53", &dns));
        assert!(!passes("udp src port 53", &dns) && passes("src host fd00::1", &dns));
        assert!(passes("not arp", &ping) && !passes("not icmp", &ping) && passes("! tcp", &ping));
        assert!(passes("ip", &ping) && !passes("ip", &dns) && passes("ip6", &dns));
        assert!(passes("arp or (tcp && dst port 80)", &web) && !passes("arp || (tcp && dst port 22)", &web));
        assert!(passes("TCP PORT 80", &web), "words in any case");
        assert!(passes("not tcp and not udp", &ping) && !passes("not (icmp or tcp)", &web));
    }

    fn refusal(filter: &str) -> String {
        parse_filter(filter).map(|_| "parsed".to_string()).unwrap_or_else(|error| error.to_string())
    }

    #[test]
    fn mistakes_are_told_at_their_place() {
        assert_eq!(refusal("tcp port"), "at column 9: expected a port number after `port`");
        assert_eq!(refusal("port http"), "at column 6: expected a port number after `port`, not `http`");
        assert_eq!(refusal("port 99999"), "at column 6: `99999` is not a port number (0 to 65535)");
        assert_eq!(refusal("host ns1"), "at column 6: `ns1` is not an IPv4 or IPv6 address");
        assert_eq!(refusal("host and"), "at column 6: expected an IPv4 or IPv6 address after `host`, not `and`");
        assert!(refusal("icmpp").starts_with("at column 1: `icmpp` is not a filter word"), "{}", refusal("icmpp"));
        assert_eq!(refusal("icmp tcp"), "at column 6: expected `and` or `or` before `tcp`");
        assert_eq!(refusal("(icmp or arp"), "at column 13: expected `)`");
        assert_eq!(refusal("icmp)"), "at column 5: this `)` has no `(` before it");
        assert_eq!(refusal("tcp src 80"), "at column 9: expected `host` or `port`, not `80`");
        assert!(refusal("not").starts_with("at column 4: expected a protocol"), "{}", refusal("not"));
        assert!(refusal("icmp and").starts_with("at column 9: expected a protocol"));
        assert_eq!(refusal("tcp é"), "at column 5: expected `and` or `or` before `é`");
        assert_eq!(refusal("ø port x").split(':').next(), Some("at column 1"));
        assert_eq!(refusal("é & tcp"), "at column 1: `é` is not a filter word; expected a protocol (`arp`, `icmp`, `tcp`, ...), `host ADDRESS` or `port NUMBER`");
        assert_eq!(refusal("tcp & udp"), "at column 5: expected `and` or `or` before `&`");
    }
}
