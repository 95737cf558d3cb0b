//! A memory-mapped TPACKET_V3 receive ring on an `AF_PACKET` socket, as libpcap (and so
//! tcpdump) reads one: the kernel writes each frame it takes into the current block of a
//! ring shared with this process, with its length, the kernel's time of taking it and the
//! `sockaddr_ll` that says its direction; it hands a block over ("retires" it) when the
//! block is full or `Geometry::retire_after` has passed since it was opened, and wakes a
//! `poll` on the socket. The reader walks the blocks handed over, oldest first, and gives
//! each back. No system call per frame, and none at all while blocks are full: what costs
//! the socket a frame is only the reader's copy, so a flood is lost at the socket only when
//! the whole ring is full.
//!
//! The walk over a block (`block_frames`) reads plain bytes, bounds-checked, so it is
//! tested on synthetic blocks without a kernel; only the mapping and the block's status
//! word, which the kernel and the reader hand back and forth, need `unsafe`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use libc::{sockaddr_ll, tpacket3_hdr, tpacket_block_desc, tpacket_hdr_v1};

/// The ring's shape: `blocks` blocks of `block_size` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// A multiple of the page size; the longest frame the kernel writes whole is a block
    /// less its header.
    pub block_size: usize,
    pub blocks: usize,
    /// The longest a frame waits in a block that is not full before the block is handed
    /// over: the delay a quiet capture adds.
    pub retire_after: Duration,
}

/// One frame in a block handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingFrame<'a> {
    /// What the kernel wrote of the frame, from its Ethernet header on.
    pub bytes: &'a [u8],
    /// The frame's length on the wire (more than `bytes` when the kernel cut it).
    pub length: u32,
    /// When the kernel took it, in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// Sent by the interface (`PACKET_OUTGOING`), not received.
    pub outgoing: bool,
}

/// A receive ring set up on a socket and mapped; dropping it unmaps the ring and closes
/// the socket.
pub struct PacketRing {
    socket: OwnedFd,
    blocks: Blocks,
    mapped: usize,
}

// SAFETY: the ring's memory is owned by this value alone (mapped for it, unmapped by its
// drop); moving it to another thread moves that ownership, as for a Vec.
unsafe impl Send for PacketRing {}

impl PacketRing {
    /// Asks for TPACKET_V3 and a receive ring of `geometry` on `socket`, which must not have
    /// a ring yet, and maps the ring. Best done before the socket is bound, so that no frame
    /// is queued the old way.
    pub fn attach(socket: OwnedFd, geometry: Geometry) -> std::io::Result<PacketRing> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_packet_option(&socket, libc::PACKET_VERSION, &version)?;
        let request = request_of(geometry)?;
        set_packet_option(&socket, libc::PACKET_RX_RING, &request)?;
        let mapped = geometry.block_size * geometry.blocks;
        // SAFETY: a fresh shared mapping of the ring the kernel just made for this socket, of
        // its exact size; nothing else in this process refers to that memory.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                socket.as_raw_fd(),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = NonNull::new(address as *mut u8).ok_or_else(|| std::io::Error::other("mmap gave a null ring"))?;
        // SAFETY: base maps blocks x block_size bytes, aligned to a page, which live until
        // the drop below unmaps them, after the Blocks are gone with this value.
        let blocks = unsafe { Blocks::new(base, geometry.block_size, geometry.blocks) };
        Ok(PacketRing { socket, blocks, mapped })
    }

    pub fn socket(&self) -> &OwnedFd {
        &self.socket
    }

    /// Hands every frame of every block the kernel has handed over to `take`, oldest first,
    /// giving each block back after its frames; returns how many frames were walked.
    pub fn drain(&mut self, take: impl FnMut(RingFrame<'_>)) -> usize {
        self.blocks.drain(take)
    }
}

impl Drop for PacketRing {
    fn drop(&mut self) {
        // SAFETY: the mapping made in attach, of that size, unmapped once; no RingFrame
        // borrows it (they borrow &mut self for the length of a drain).
        unsafe {
            libc::munmap(self.blocks.base.as_ptr() as *mut libc::c_void, self.mapped);
        }
    }
}

fn request_of(geometry: Geometry) -> std::io::Result<libc::tpacket_req3> {
    // The kernel checks that the blocks hold whole "frames" (a V1/V2 notion V3 only
    // validates): any multiple of 16 that fits a header and divides the block does.
    const FRAME: usize = 2048;
    let page = page_size();
    if geometry.block_size == 0
        || !geometry.block_size.is_multiple_of(page)
        || !geometry.block_size.is_multiple_of(FRAME)
    {
        return Err(std::io::Error::other(format!("a ring block of {} bytes is not whole pages", geometry.block_size)));
    }
    let number = |value: usize| libc::c_uint::try_from(value).map_err(std::io::Error::other);
    Ok(libc::tpacket_req3 {
        tp_block_size: number(geometry.block_size)?,
        tp_block_nr: number(geometry.blocks)?,
        tp_frame_size: number(FRAME)?,
        tp_frame_nr: number(geometry.block_size / FRAME * geometry.blocks)?,
        tp_retire_blk_tov: number(geometry.retire_after.as_millis().max(1) as usize)?,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    })
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant of the system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// `setsockopt` at the packet level (`SOL_PACKET`), for the ring and the capture's membership.
pub(super) fn set_packet_option<T>(socket: &OwnedFd, name: libc::c_int, value: &T) -> std::io::Result<()> {
    // SAFETY: value points to a T of the size given, alive during the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if result < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The ring's blocks, as the reader walks them: from `next`, the oldest not yet read.
struct Blocks {
    base: NonNull<u8>,
    block_size: usize,
    count: usize,
    next: usize,
}

/// Where the status word sits in a block: `tpacket_block_desc.hdr.bh1.block_status`.
const STATUS_AT: usize =
    std::mem::offset_of!(tpacket_block_desc, hdr) + std::mem::offset_of!(tpacket_hdr_v1, block_status);

impl Blocks {
    /// # Safety
    /// `base` must point to `count` blocks of `block_size` bytes, aligned to 8, readable and
    /// writable for the life of the value, whose status words only the kernel (or a test
    /// standing for it) and this value change.
    unsafe fn new(base: NonNull<u8>, block_size: usize, count: usize) -> Blocks {
        Blocks { base, block_size, count, next: 0 }
    }

    fn status(&self, block: usize) -> &AtomicU32 {
        // SAFETY: block < count, so the word lies inside the mapping (new's contract), is
        // aligned (blocks start at multiples of the page, the word at offset 8), and is
        // only ever accessed atomically here; the kernel writes it with a barrier before.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(block * self.block_size + STATUS_AT) as *mut u32) }
    }

    fn drain(&mut self, mut take: impl FnMut(RingFrame<'_>)) -> usize {
        let mut walked = 0;
        for _ in 0..self.count {
            let status = self.status(self.next);
            // Acquire: what the kernel wrote into the block before handing it over is seen.
            if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                break;
            }
            {
                // SAFETY: the block is inside the mapping (new's contract) and handed over:
                // the kernel writes nothing into it until its status says TP_STATUS_KERNEL
                // again, which happens only below, after this borrow ends.
                let block = unsafe {
                    std::slice::from_raw_parts(self.base.as_ptr().add(self.next * self.block_size), self.block_size)
                };
                for frame in block_frames(block) {
                    take(frame);
                    walked += 1;
                }
            }
            // Release: the reads above are done before the kernel may write the block again.
            self.status(self.next).store(libc::TP_STATUS_KERNEL, Ordering::Release);
            self.next = (self.next + 1) % self.count;
        }
        walked
    }
}

/// The frames a handed-over block holds, in the order the kernel wrote them. Anything that
/// would lie outside the block ends the walk (a kernel never writes such a block; a bug
/// here must not read beyond it).
pub fn block_frames(block: &[u8]) -> impl Iterator<Item = RingFrame<'_>> {
    let header = std::mem::offset_of!(tpacket_block_desc, hdr);
    let count = read_u32(block, header + std::mem::offset_of!(tpacket_hdr_v1, num_pkts)).unwrap_or(0);
    let first = read_u32(block, header + std::mem::offset_of!(tpacket_hdr_v1, offset_to_first_pkt)).unwrap_or(0);
    let mut at = Some(first as usize);
    (0..count).map_while(move |_| {
        let (frame, next) = frame_at(block, at?)?;
        at = next;
        Some(frame)
    })
}

/// The frame whose `tpacket3_hdr` starts at `at`, and where the next one starts (None for
/// the last).
fn frame_at(block: &[u8], at: usize) -> Option<(RingFrame<'_>, Option<usize>)> {
    let field = |offset: usize| read_u32(block, at.checked_add(offset)?);
    let next_offset = field(std::mem::offset_of!(tpacket3_hdr, tp_next_offset))?;
    let seconds = field(std::mem::offset_of!(tpacket3_hdr, tp_sec))?;
    let nanoseconds = field(std::mem::offset_of!(tpacket3_hdr, tp_nsec))?;
    let captured = field(std::mem::offset_of!(tpacket3_hdr, tp_snaplen))?;
    let length = field(std::mem::offset_of!(tpacket3_hdr, tp_len))?;
    let mac = read_u16(block, at.checked_add(std::mem::offset_of!(tpacket3_hdr, tp_mac))?)?;
    // The sockaddr_ll follows the header, aligned to 16 (TPACKET_ALIGN).
    let address = at.checked_add(std::mem::size_of::<tpacket3_hdr>().next_multiple_of(libc::TPACKET_ALIGNMENT))?;
    let kind = *block.get(address.checked_add(std::mem::offset_of!(sockaddr_ll, sll_pkttype))?)?;
    let start = at.checked_add(usize::from(mac))?;
    let bytes = block.get(start..start.checked_add(captured as usize)?)?;
    let frame = RingFrame {
        bytes,
        length,
        time_ns: u64::from(seconds) * 1_000_000_000 + u64::from(nanoseconds),
        outgoing: kind == libc::PACKET_OUTGOING,
    };
    let next = (next_offset != 0).then(|| at.checked_add(next_offset as usize)).flatten();
    Some((frame, next))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 4096;

    /// A frame as the kernel lays it out: the header, the sockaddr_ll, then the frame at
    /// the header's tp_mac (82 here, as the kernel puts a 14-byte Ethernet header).
    struct Written {
        bytes: Vec<u8>,
        length: u32,
        time_ns: u64,
        outgoing: bool,
    }

    const MAC: usize = 82;

    fn put_u32(block: &mut [u8], at: usize, value: u32) {
        block[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }

    /// A block handed over, holding `frames`; `status` is its status word.
    fn block_of(frames: &[Written], status: u32) -> Vec<u8> {
        let mut block = vec![0u8; BLOCK];
        let header = std::mem::offset_of!(tpacket_block_desc, hdr);
        let first = std::mem::size_of::<tpacket_block_desc>().next_multiple_of(8);
        put_u32(&mut block, STATUS_AT, status);
        put_u32(&mut block, header + std::mem::offset_of!(tpacket_hdr_v1, num_pkts), frames.len() as u32);
        put_u32(&mut block, header + std::mem::offset_of!(tpacket_hdr_v1, offset_to_first_pkt), first as u32);
        let mut at = first;
        for (index, frame) in frames.iter().enumerate() {
            let size = (MAC + frame.bytes.len()).next_multiple_of(16);
            let next = if index + 1 == frames.len() { 0 } else { size as u32 };
            put_u32(&mut block, at + std::mem::offset_of!(tpacket3_hdr, tp_next_offset), next);
            put_u32(
                &mut block,
                at + std::mem::offset_of!(tpacket3_hdr, tp_sec),
                (frame.time_ns / 1_000_000_000) as u32,
            );
            put_u32(
                &mut block,
                at + std::mem::offset_of!(tpacket3_hdr, tp_nsec),
                (frame.time_ns % 1_000_000_000) as u32,
            );
            put_u32(&mut block, at + std::mem::offset_of!(tpacket3_hdr, tp_snaplen), frame.bytes.len() as u32);
            put_u32(&mut block, at + std::mem::offset_of!(tpacket3_hdr, tp_len), frame.length);
            let mac_at = at + std::mem::offset_of!(tpacket3_hdr, tp_mac);
            block[mac_at..mac_at + 2].copy_from_slice(&(MAC as u16).to_ne_bytes());
            let kind = if frame.outgoing { libc::PACKET_OUTGOING } else { libc::PACKET_HOST };
            block[at + 48 + std::mem::offset_of!(sockaddr_ll, sll_pkttype)] = kind;
            block[at + MAC..at + MAC + frame.bytes.len()].copy_from_slice(&frame.bytes);
            at += size;
        }
        block
    }

    fn frames() -> Vec<Written> {
        vec![
            Written { bytes: vec![1; 60], length: 60, time_ns: 1_700_000_000_123_456_789, outgoing: true },
            Written { bytes: vec![2; 98], length: 98, time_ns: 1_700_000_000_223_456_789, outgoing: false },
            // Cut by the kernel: 100 bytes kept of 9000.
            Written { bytes: (0..100).collect(), length: 9000, time_ns: 1_700_000_001_000_000_000, outgoing: false },
        ]
    }

    fn walked(block: &[u8]) -> Vec<(Vec<u8>, u32, u64, bool)> {
        block_frames(block).map(|frame| (frame.bytes.to_vec(), frame.length, frame.time_ns, frame.outgoing)).collect()
    }

    fn expected(frames: &[Written]) -> Vec<(Vec<u8>, u32, u64, bool)> {
        frames.iter().map(|frame| (frame.bytes.clone(), frame.length, frame.time_ns, frame.outgoing)).collect()
    }

    #[test]
    fn a_block_gives_its_frames_in_order_with_length_time_and_direction() {
        let frames = frames();
        assert_eq!(walked(&block_of(&frames, libc::TP_STATUS_USER)), expected(&frames));
    }

    #[test]
    fn an_empty_block_gives_nothing() {
        assert!(walked(&block_of(&[], libc::TP_STATUS_USER)).is_empty());
    }

    #[test]
    fn a_block_that_points_outside_itself_ends_the_walk_there() {
        let frames = frames();
        let first = std::mem::size_of::<tpacket_block_desc>().next_multiple_of(8);
        let second = first + (MAC + 60).next_multiple_of(16);

        // The second frame says it is longer than the block: only the first is walked.
        let mut too_long = block_of(&frames, libc::TP_STATUS_USER);
        put_u32(&mut too_long, second + std::mem::offset_of!(tpacket3_hdr, tp_snaplen), BLOCK as u32);
        assert_eq!(walked(&too_long), expected(&frames[..1]));

        // The first frame's next offset leads past the block's end.
        let mut astray = block_of(&frames, libc::TP_STATUS_USER);
        put_u32(&mut astray, first + std::mem::offset_of!(tpacket3_hdr, tp_next_offset), u32::MAX);
        assert_eq!(walked(&astray), expected(&frames[..1]));

        // More frames counted than written: the last one's zero next offset ends it.
        let mut overcounted = block_of(&frames, libc::TP_STATUS_USER);
        let header = std::mem::offset_of!(tpacket_block_desc, hdr);
        put_u32(&mut overcounted, header + std::mem::offset_of!(tpacket_hdr_v1, num_pkts), 1000);
        assert_eq!(walked(&overcounted), expected(&frames));

        // A block cut short (its header only) and garbage give nothing, without a panic.
        assert!(walked(&too_long[..20]).is_empty());
        assert!(walked(&[0xff; 64]).is_empty());
    }

    /// A ring of blocks in plain memory, standing for the kernel's mapping.
    struct FakeRing {
        memory: Vec<u64>,
        count: usize,
    }

    impl FakeRing {
        fn new(blocks: &[Vec<u8>]) -> FakeRing {
            let mut memory = vec![0u64; blocks.len() * BLOCK / 8];
            for (index, block) in blocks.iter().enumerate() {
                for (word, bytes) in memory[index * BLOCK / 8..].iter_mut().zip(block.chunks(8)) {
                    *word = u64::from_ne_bytes(bytes.try_into().unwrap());
                }
            }
            FakeRing { memory, count: blocks.len() }
        }

        fn blocks(&mut self) -> Blocks {
            let base = NonNull::new(self.memory.as_mut_ptr() as *mut u8).unwrap();
            // SAFETY: memory holds count blocks of BLOCK bytes, aligned to 8, and outlives
            // the Blocks, which each test lets go before reading memory again.
            unsafe { Blocks::new(base, BLOCK, self.count) }
        }

        fn status(&self, block: usize) -> u32 {
            let word = self.memory[(block * BLOCK + STATUS_AT) / 8].to_ne_bytes();
            read_u32(&word, STATUS_AT % 8).unwrap()
        }
    }

    fn times(blocks: &mut Blocks) -> Vec<u64> {
        let mut seen = Vec::new();
        blocks.drain(|frame| seen.push(frame.time_ns));
        seen
    }

    #[test]
    fn the_reader_walks_the_blocks_handed_over_in_turn_and_gives_each_back() {
        let frames = frames();
        let handed = |range: std::ops::Range<usize>| block_of(&frames[range], libc::TP_STATUS_USER);
        // Blocks 0 and 1 handed over, block 2 still the kernel's, block 3 handed over.
        let mut ring =
            FakeRing::new(&[handed(0..1), handed(1..3), block_of(&frames[..1], libc::TP_STATUS_KERNEL), handed(0..2)]);
        {
            let mut blocks = ring.blocks();
            assert_eq!(times(&mut blocks), expected(&frames).iter().map(|frame| frame.2).collect::<Vec<_>>());
            // Block 2 stops the walk, though block 3 is ready: the kernel fills them in turn.
            assert_eq!(blocks.next, 2);
            assert!(times(&mut blocks).is_empty());
        }
        let given_back: Vec<u32> = (0..4).map(|block| ring.status(block)).collect();
        assert_eq!(
            given_back,
            [libc::TP_STATUS_KERNEL, libc::TP_STATUS_KERNEL, libc::TP_STATUS_KERNEL, libc::TP_STATUS_USER]
        );
    }

    #[test]
    fn the_walk_wraps_around_the_ring() {
        let frames = frames();
        // The reader last stopped at block 1; the kernel has since handed over 1, then 0.
        let mut ring = FakeRing::new(&[
            block_of(&frames[2..3], libc::TP_STATUS_USER | libc::TP_STATUS_BLK_TMO),
            block_of(&frames[0..2], libc::TP_STATUS_USER),
        ]);
        {
            let mut blocks = ring.blocks();
            blocks.next = 1;
            let all: Vec<u64> = frames.iter().map(|frame| frame.time_ns).collect();
            assert_eq!(times(&mut blocks), all);
            assert_eq!(blocks.next, 1);
        }
        assert_eq!([ring.status(0), ring.status(1)], [libc::TP_STATUS_KERNEL; 2]);
    }

    #[test]
    fn a_ring_asks_for_whole_pages() {
        let geometry = Geometry { block_size: 128 * 1024, blocks: 8, retire_after: Duration::from_millis(10) };
        let request = request_of(geometry).unwrap();
        assert_eq!((request.tp_block_size, request.tp_block_nr), (128 * 1024, 8));
        assert_eq!(request.tp_frame_nr * request.tp_frame_size, 8 * 128 * 1024);
        assert_eq!(request.tp_retire_blk_tov, 10);
        for block_size in [0, 1000, 4096 + 2048] {
            assert!(request_of(Geometry { block_size, ..geometry }).is_err(), "{block_size}");
        }
    }
}
