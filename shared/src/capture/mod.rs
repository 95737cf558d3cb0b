//! Live packet capture, the model's part: what one captured packet says (`packet`), how
//! its raw Ethernet frame is read (`decode`, with etherparse), the filter language a
//! capture is asked with (`filter`), and which interface of the lab a capture names
//! (`place`). The packet socket itself is the backend's (`kernel/capture.rs`).

pub mod decode;
pub mod filter;
pub mod packet;
pub mod place;

pub use decode::decode;
pub use filter::{parse_filter, Filter, FilterError};
pub use packet::{CaptureLineMessage, CaptureMessage, CapturedPacket, Direction, PacketFields, PacketLine, Protocol};
pub use place::{capture_place, CapturePlace};
