"""A minimal H.264 (Baseline profile) encoder and MP4 muxer, standard library only.

Every picture is coded without prediction or transform: a macroblock that changed since the
previous picture is an ``I_PCM`` macroblock (its raw 8-bit 4:2:0 samples), one that did not is
skipped (``P_Skip``; with every motion vector zero that is an exact copy). The first picture of
each group is an IDR picture made of I_PCM macroblocks only. CAVLC, one slice per picture, no
deblocking, picture order count type 2, so decode order is output order. Sizes that are not a
multiple of 16 are coded padded and cropped by the SPS (even sizes only, as 4:2:0 needs).

The MP4 is ``ftyp`` + ``moov`` (``avc1`` sample entry with ``avcC``, ``stts``/``stss``/``stsc``/
``stsz``/``stco``) + ``mdat`` with length-prefixed NAL units, ``moov`` first (fast start).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable

from sogni_sync.testing._bits import MsbWriter

__all__ = ["Frame", "encode_mp4"]

# (level_idc, MaxFS in macroblocks, MaxMBPS) from H.264 Table A-1.
_LEVELS = ((10, 99, 1485), (11, 396, 3000), (12, 396, 6000), (13, 396, 11880),
           (20, 396, 11880), (21, 792, 19800), (22, 1620, 20250), (30, 1620, 40500),
           (31, 3600, 108000), (32, 5120, 216000), (40, 8192, 245760), (42, 8704, 522240),
           (50, 22080, 589824), (51, 36864, 983040), (52, 36864, 2073600))
_LOG2_MAX_FRAME_NUM = 8
_GOP = 32
_EMULATION = re.compile(b"\x00\x00(?=[\x00-\x03])")

Frame = tuple[bytes, bytes, bytes]  # Y (W x H), Cb and Cr (W/2 x H/2), W and H multiples of 16


def _level(mbs: int, fps: float) -> int:
    for level, max_fs, max_mbps in _LEVELS:
        if mbs <= max_fs and mbs * fps <= max_mbps:
            return level
    return 52


def _nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    return bytes((ref_idc << 5 | kind,)) + _EMULATION.sub(b"\x00\x00\x03", rbsp)


def _sps(width: int, height: int, fps: float) -> bytes:
    mb_w, mb_h = (width + 15) // 16, (height + 15) // 16
    b = MsbWriter()
    b.u(66, 8)  # profile_idc: Baseline
    b.u(0xC0, 8)  # constraint_set0 and constraint_set1 (Constrained Baseline)
    b.u(_level(mb_w * mb_h, fps), 8)
    b.ue(0)  # seq_parameter_set_id
    b.ue(_LOG2_MAX_FRAME_NUM - 4)
    b.ue(2)  # pic_order_cnt_type
    b.ue(1)  # max_num_ref_frames
    b.u(0, 1)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mb_w - 1)
    b.ue(mb_h - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    crop_x, crop_y = (16 * mb_w - width) // 2, (16 * mb_h - height) // 2
    if crop_x or crop_y:
        b.u(1, 1)
        for offset in (0, crop_x, 0, crop_y):  # left, right, top, bottom (units of 2 samples)
            b.ue(offset)
    else:
        b.u(0, 1)
    b.u(0, 1)  # vui_parameters_present_flag
    return _nal(3, 7, b.trailing())


def _pps() -> bytes:
    b = MsbWriter()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(0, 1)  # entropy_coding_mode_flag: CAVLC
    b.u(0, 1)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(0, 1)  # weighted_pred_flag
    b.u(0, 2)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(0, 1)  # constrained_intra_pred_flag
    b.u(0, 1)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, b.trailing())


def _row_macroblocks(frame: Frame, width: int, my: int) -> list[bytes]:
    """The I_PCM payloads (256 luma, 64 Cb, 64 Cr samples) of macroblock row ``my``."""
    y_plane, cb, cr = frame
    cw, mb_w = width // 2, width // 16
    luma, chroma = struct.Struct("16s" * mb_w).unpack, struct.Struct("8s" * mb_w).unpack
    pieces = [luma(y_plane[(16 * my + r) * width:(16 * my + r + 1) * width]) for r in range(16)]
    for plane in (cb, cr):
        pieces += [chroma(plane[(8 * my + r) * cw:(8 * my + r + 1) * cw]) for r in range(8)]
    return [b"".join(parts) for parts in zip(*pieces, strict=True)]


def _strip(frame: Frame, width: int, my: int) -> tuple[bytes, bytes, bytes]:
    """The samples of macroblock row ``my`` (to find unchanged rows without splitting them)."""
    y_plane, cb, cr = frame
    luma, chroma = 16 * width, 4 * width
    return (y_plane[my * luma:(my + 1) * luma], cb[my * chroma:(my + 1) * chroma],
            cr[my * chroma:(my + 1) * chroma])


def _slice(frame: Frame, previous: Frame | None, width: int, frame_num: int,
           idr_id: int) -> bytes:
    b = MsbWriter()
    b.ue(0)  # first_mb_in_slice
    b.ue(7 if previous is None else 5)  # slice_type: I or P (all slices of the picture)
    b.ue(0)  # pic_parameter_set_id
    b.u(frame_num, _LOG2_MAX_FRAME_NUM)
    if previous is None:
        b.ue(idr_id)
        b.u(0, 1)  # no_output_of_prior_pics_flag
        b.u(0, 1)  # long_term_reference_flag
    else:
        b.u(0, 1)  # num_ref_idx_active_override_flag
        b.u(0, 1)  # ref_pic_list_modification_flag_l0
        b.u(0, 1)  # adaptive_ref_pic_marking_mode_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc: off
    mb_w, mb_h = width // 16, len(frame[0]) // width // 16
    skipped = 0
    for my in range(mb_h):
        if previous is not None and _strip(frame, width, my) == _strip(previous, width, my):
            skipped += mb_w
            continue
        before = _row_macroblocks(previous, width, my) if previous is not None else None
        for mx, mb in enumerate(_row_macroblocks(frame, width, my)):
            if before is not None:
                if mb == before[mx]:
                    skipped += 1
                    continue
                b.ue(skipped)  # mb_skip_run
                skipped = 0
                b.ue(5 + 25)  # mb_type I_PCM in a P slice
            else:
                b.ue(25)  # mb_type I_PCM
            b.align(0)  # pcm_alignment_zero_bit
            b.raw(mb)
    if skipped:
        b.ue(skipped)
    return _nal(3 if previous is None else 2, 5 if previous is None else 1, b.trailing())


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version_flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def encode_mp4(frames: Iterable[Frame], width: int, height: int, coded_width: int,
               fps: float) -> bytes:
    """Encode ``frames`` (planes of ``coded_width`` x 16k samples) as an H.264 MP4 of
    ``width`` x ``height`` (both even, at most the coded size) at ``fps``."""
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise ValueError("H.264 4:2:0 needs even, positive sizes")
    samples: list[bytes] = []
    sync: list[int] = []
    previous: Frame | None = None
    frame_num = idr_id = 0
    sps = pps = b""
    for index, frame in enumerate(frames):
        if not sps:
            coded_height = len(frame[0]) // coded_width
            sps, pps = _sps(width, height, fps), _pps()
            if coded_width - width >= 16 or coded_height - height >= 16:
                raise ValueError("coded size must be the size rounded up to macroblocks")
        if index % _GOP == 0:
            previous, frame_num = None, 0
            sync.append(index + 1)
        nal = _slice(frame, previous, coded_width, frame_num, idr_id)
        if previous is None:
            idr_id = (idr_id + 1) % 65536
        samples.append(struct.pack(">I", len(nal)) + nal)
        previous, frame_num = frame, (frame_num + 1) % (1 << _LOG2_MAX_FRAME_NUM)
    if not samples:
        raise ValueError("a video needs at least one frame")
    timescale, delta = max(1, round(fps * 1000)), 1000
    duration = delta * len(samples)
    avcc = _box(b"avcC", bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1)),
                struct.pack(">H", len(sps)), sps, b"\x01", struct.pack(">H", len(pps)), pps)
    avc1 = _box(b"avc1", bytes(6), struct.pack(">HHH", 1, 0, 0), bytes(12),
                struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1),
                bytes(32), struct.pack(">Hh", 0x18, -1), avcc)
    stbl_parts = [
        _full(b"stsd", 0, struct.pack(">I", 1), avc1),
        _full(b"stts", 0, struct.pack(">III", 1, len(samples), delta)),
    ]
    if len(sync) < len(samples):
        stbl_parts.append(_full(b"stss", 0, struct.pack(f">I{len(sync)}I", len(sync), *sync)))
    stbl_parts += [
        _full(b"stsc", 0, struct.pack(">IIII", 1, 1, len(samples), 1)),
        _full(b"stsz", 0, struct.pack(f">II{len(samples)}I", 0, len(samples),
                                      *(len(s) for s in samples))),
    ]
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")

    def moov(offset: int) -> bytes:
        stbl = _box(b"stbl", *stbl_parts, _full(b"stco", 0, struct.pack(">II", 1, offset)))
        dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1)))
        minf = _box(b"minf", _full(b"vmhd", 1, bytes(8)), dinf, stbl)
        mdia = _box(b"mdia",
                    _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration,
                                                  0x55C4, 0)),
                    _full(b"hdlr", 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00"),
                    minf)
        tkhd = _full(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, duration), bytes(8),
                     struct.pack(">HHHH", 0, 0, 0, 0), _MATRIX,
                     struct.pack(">II", width << 16, height << 16))
        mvhd = _full(b"mvhd", 0, struct.pack(">IIII", 0, 0, timescale, duration),
                     struct.pack(">IH", 0x10000, 0x100), bytes(10), _MATRIX, bytes(24),
                     struct.pack(">I", 2))
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    size = len(moov(0))
    mdat_body = b"".join(samples)
    head = ftyp + moov(len(ftyp) + size + 8)
    return head + struct.pack(">I", 8 + len(mdat_body)) + b"mdat" + mdat_body
