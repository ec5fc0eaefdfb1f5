#!/usr/bin/env python3
"""Pixel statistics for integration-test screenshots (stdlib only).

    imgstat.py FILE COLOUR [COLOUR...]

FILE is a binary PPM (P6, as written by `grim -t ppm`) or an 8-bit
non-interlaced PNG (as written by grim or weston-screenshooter). Prints,
for each COLOUR (RRGGBB hex), the fraction of pixels that are exactly that
colour, one number a line, then the image size as "WxH".
"""

import struct
import sys
import zlib


def read_ppm(data):
    # Header: "P6" WS width WS height WS maxval ONE-WS, comments allowed.
    fields = []
    pos = 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(int(data[start:pos]))
    pos += 1
    width, height, maxval = fields
    if maxval != 255:
        raise ValueError('only 8-bit PPM supported')
    pixels = data[pos:pos + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError('truncated PPM')
    return width, height, 3, pixels


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data):
    pos = 8
    idat = []
    width = height = channels = None
    while pos < len(data):
        length, ctype = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or interlace != 0 or colour not in (2, 6):
                raise ValueError('only 8-bit non-interlaced RGB/RGBA PNG supported')
            channels = 3 if colour == 2 else 4
        elif ctype == b'IDAT':
            idat.append(body)
        elif ctype == b'IEND':
            break
    raw = zlib.decompress(b''.join(idat))
    stride = width * channels
    out = bytearray(stride * height)
    prev = bytearray(stride)
    src = 0
    for y in range(height):
        ftype = raw[src]
        line = bytearray(raw[src + 1:src + 1 + stride])
        src += 1 + stride
        if ftype == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xff
        elif ftype == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ftype == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                upleft = prev[i - channels] if i >= channels else 0
                line[i] = (line[i] + paeth(left, prev[i], upleft)) & 0xff
        elif ftype != 0:
            raise ValueError('bad PNG filter type %d' % ftype)
        out[y * stride:(y + 1) * stride] = line
        prev = line
    if channels == 4:
        # Drop alpha: compare colours only.
        rgb = bytearray(width * height * 3)
        rgb[0::3] = out[0::4]
        rgb[1::3] = out[1::4]
        rgb[2::3] = out[2::4]
        out = rgb
    return width, height, 3, bytes(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], 'rb') as f:
        data = f.read()
    if data[:2] == b'P6':
        width, height, _, pixels = read_ppm(data)
    elif data[:8] == b'\x89PNG\r\n\x1a\n':
        width, height, _, pixels = read_png(data)
    else:
        sys.exit('%s: not a P6 PPM or a PNG' % sys.argv[1])
    total = width * height
    r, g, b = pixels[0::3], pixels[1::3], pixels[2::3]
    for colour in sys.argv[2:]:
        want = bytes.fromhex(colour.lstrip('#'))
        if len(want) != 3:
            sys.exit('bad colour %r' % colour)
        n = sum(1 for p in zip(r, g, b) if p == (want[0], want[1], want[2]))
        print('%.6f' % (n / total))
    print('%dx%d' % (width, height))


if __name__ == '__main__':
    main()
