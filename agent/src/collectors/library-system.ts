/** Pure helpers behind the library collector's C library and OpenSSL facts. */

export interface LoadedLibc {
  kind: 'glibc' | 'musl';
  /** The file on disk (without the ` (deleted)` mark of a replaced file). */
  path: string;
}

/** The C library mapped into a process, from /proc/<pid>/maps (only lines naming libc or musl are parsed). */
export function libcFromMaps(maps: string): LoadedLibc | undefined {
  for (const line of maps.split('\n')) {
    if (!line.includes('libc') && !line.includes('musl')) continue;
    const slash = line.indexOf(' /');
    if (slash < 0) continue;
    const path = line.slice(slash + 1).replace(/ \(deleted\)$/, '');
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (/^libc\.so\.6$|^libc-\d+\.\d+(\.\d+)?\.so$/.test(name)) return { kind: 'glibc', path };
    if (/^ld-musl-[^/]+\.so\.1$|^libc\.musl-[^/]+\.so\.1$/.test(name)) return { kind: 'musl', path };
  }
  return undefined;
}

/**
 * The program interpreter (dynamic loader) named in an ELF executable's PT_INTERP program header,
 * from the first bytes of the file: `/lib64/ld-linux-x86-64.so.2`, `/lib/ld-musl-x86_64.so.1`.
 * Undefined for non-ELF or static executables, or when the header lies beyond `head`.
 */
export function elfInterpreter(head: Buffer): string | undefined {
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const u16 = (at: number) => (little ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const u32 = (at: number) => (little ? head.readUInt32LE(at) : head.readUInt32BE(at));
  const word = (at: number) => (is64 ? Number(little ? head.readBigUInt64LE(at) : head.readBigUInt64BE(at)) : u32(at));
  const phoff = word(is64 ? 0x20 : 0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    if (header + phentsize > head.length) return undefined;
    if (u32(header) !== 3) continue; // PT_INTERP
    const offset = word(header + (is64 ? 0x08 : 0x04));
    const size = word(header + (is64 ? 0x20 : 0x10));
    if (offset + size > head.length || size < 2) return undefined;
    return head
      .subarray(offset, offset + size)
      .toString('latin1')
      .replace(/\0+$/, '');
  }
  return undefined;
}

/** Old glibc (< 2.34) names its files after the version: `libc-2.31.so`, `ld-2.31.so`. */
export function glibcVersionFromFileName(path: string): string | undefined {
  return /\/(?:libc|ld)-(\d+\.\d+(?:\.\d+)?)\.so$/.exec(path)?.[1];
}

/**
 * The version glibc reports about itself (`gnu_get_libc_version()`, `ldd --version`), from the
 * banner compiled into libc.so.6 (`GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release
 * version 2.36.`) or into the dynamic loader of the same build (`ld.so (Debian GLIBC 2.36-9+deb12u14)
 * stable release version 2.36.`).
 */
export function glibcVersionFromBinary(content: Buffer): string | undefined {
  const marker = Buffer.from('release version ');
  let from = 0;
  for (;;) {
    const at = content.indexOf(marker, from);
    if (at < 0) return undefined;
    const tail = content.subarray(at + marker.length, at + marker.length + 16).toString('latin1');
    const bannerStart = Math.max(0, at - 200);
    const banner = content.subarray(bannerStart, at).toString('latin1');
    const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(tail)?.[1];
    if (version && (banner.includes('GNU C Library') || banner.includes('ld.so ('))) return version;
    from = at + marker.length;
  }
}

/** musl's loader run without arguments prints `musl libc (x86_64)\nVersion 1.2.4\n...` on stderr. */
export function parseMuslLoaderOutput(output: string): string | undefined {
  return /^Version (\d+\.\d+\.\d+\S*)/m.exec(output)?.[1];
}

export interface OpensslVersion {
  /** `OpenSSL` or `LibreSSL`. */
  flavor: string;
  /** Version of the library the command is linked against (the `Library:` part when shown). */
  version: string;
}

/**
 * Parses `openssl version`: `OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)`,
 * `OpenSSL 1.1.1w  11 Sep 2023`, `LibreSSL 3.8.2`. When the command and the library differ, the
 * library wins: it is what every program on the host links.
 */
export function parseOpensslVersion(output: string): OpensslVersion | undefined {
  const library = /\(Library: (OpenSSL|LibreSSL) (\S+)/.exec(output);
  const main = /^(OpenSSL|LibreSSL) (\S+)/m.exec(output);
  const match = library ?? main;
  return match ? { flavor: match[1] as string, version: match[2] as string } : undefined;
}
