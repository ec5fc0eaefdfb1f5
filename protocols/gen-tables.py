#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn Wayland protocol XML into the const C tables of vmapp-protocol.h.

    gen-tables.py --prefix NAME --output-c OUT.c --output-h OUT.h XML...

Every XML file is checked strictly before anything is written: a file the
validator's tables come from must not be half-understood.  Unknown elements
and attributes, missing names, bad types, bad integers, duplicate names,
references to interfaces or enums that none of the inputs define: each one
prints "FILE: error: ..." and exits 1, so the build stops.

The output does not depend on the order of the input files: interfaces are
emitted sorted by name (byte order, the order strcmp and bsearch use), and
messages, arguments, enums and entries in the order the XML gives them,
which is the wire order (opcodes are indices).

An untyped new_id (wl_registry.bind) stays one argument with a NULL
interface, as vmapp-protocol.h documents; on the wire it is three fields
(string interface, uint version, new_id), which the decoder expands.
"""

import argparse
import os
import re
import sys
import textwrap
import xml.etree.ElementTree as ET

IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')
# Enum entry names may start with a digit (wl_output.transform "90").
ENTRY_NAME = re.compile(r'[A-Za-z0-9_]+\Z')
DECIMAL = re.compile(r'[0-9]+\Z')
HEX = re.compile(r'0[xX][0-9A-Fa-f]+\Z')

ARG_TYPES = {
    'int': 'VMAPP_ARG_INT',
    'uint': 'VMAPP_ARG_UINT',
    'fixed': 'VMAPP_ARG_FIXED',
    'string': 'VMAPP_ARG_STRING',
    'object': 'VMAPP_ARG_OBJECT',
    'new_id': 'VMAPP_ARG_NEW_ID',
    'array': 'VMAPP_ARG_ARRAY',
    'fd': 'VMAPP_ARG_FD',
}
# The types wayland-scanner lets carry allow-null.
NULLABLE_TYPES = {'string', 'object', 'new_id', 'array'}

# Everything else is refused, so that a typo ("nterface=") or a construct
# this generator does not know fails the build instead of being dropped.
CHILDREN = {
    'protocol': {'copyright', 'description', 'interface'},
    'interface': {'description', 'request', 'event', 'enum'},
    'request': {'description', 'arg'},
    'event': {'description', 'arg'},
    'arg': {'description'},
    'enum': {'description', 'entry'},
    'entry': {'description'},
    'description': set(),
    'copyright': set(),
}
ATTRIBUTES = {
    'protocol': {'name'},
    'interface': {'name', 'version', 'frozen'},
    'request': {'name', 'type', 'since', 'deprecated-since'},
    'event': {'name', 'type', 'since', 'deprecated-since'},
    'arg': {'name', 'type', 'summary', 'interface', 'allow-null', 'enum'},
    'enum': {'name', 'since', 'bitfield'},
    'entry': {'name', 'value', 'summary', 'since', 'deprecated-since'},
    'description': {'summary'},
    'copyright': set(),
}

UINT32_MAX = 0xffffffff


class GenError(Exception):
    def __init__(self, path, msg):
        super().__init__(msg)
        self.path = path
        self.msg = msg


class Entry:
    def __init__(self, name, value, since):
        self.name = name
        self.value = value
        self.since = since


class Enum:
    def __init__(self, name, bitfield, entries):
        self.name = name
        self.bitfield = bitfield
        self.entries = entries
        self.index = None  # position in its interface's enum array


class Arg:
    def __init__(self, name, type_, nullable, interface, enum):
        self.name = name
        self.type = type_
        self.nullable = nullable
        self.interface = interface  # name, resolved later
        self.enum = enum            # reference text, resolved later
        self.enum_owner = None      # Interface, after resolution
        self.enum_target = None     # Enum, after resolution


class Message:
    def __init__(self, kind, name, since, destructor, args):
        self.kind = kind  # 'request' or 'event'
        self.name = name
        self.since = since
        self.destructor = destructor
        self.args = args


class Interface:
    def __init__(self, path, name, version):
        self.path = path
        self.name = name
        self.version = version
        self.requests = []
        self.events = []
        self.enums = []


def parse_uint(path, text, what, minimum=0):
    """Decimal or 0x hex, 0..UINT32_MAX; anything else is an error."""
    text = text.strip()
    if DECIMAL.match(text):
        value = int(text, 10)
    elif HEX.match(text):
        value = int(text, 16)
    else:
        raise GenError(path, '%s: "%s" is not an integer' % (what, text))
    if value < minimum or value > UINT32_MAX:
        raise GenError(path, '%s: %s is out of range' % (what, text))
    return value


def check_element(path, elem, where):
    tag = elem.tag
    for child in elem:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        if child.tag not in CHILDREN[tag]:
            raise GenError(path, '%s: unexpected element <%s> in <%s>'
                           % (where, child.tag, tag))
    for attr in elem.attrib:
        if attr not in ATTRIBUTES[tag]:
            raise GenError(path, '%s: unknown attribute "%s" on <%s>'
                           % (where, attr, tag))


def get_name(path, elem, where, pattern=IDENT):
    name = elem.get('name')
    if name is None or name == '':
        raise GenError(path, '%s: <%s> without a name' % (where, elem.tag))
    if not pattern.match(name):
        raise GenError(path, '%s: <%s> name "%s" is not a valid identifier'
                       % (where, elem.tag, name))
    return name


def get_bool(path, elem, attr, where):
    text = elem.get(attr)
    if text is None or text == 'false':
        return False
    if text == 'true':
        return True
    raise GenError(path, '%s: %s="%s" must be "true" or "false"'
                   % (where, attr, text))


def get_since(path, elem, where, version):
    text = elem.get('since')
    if text is None:
        return 1
    since = parse_uint(path, text, '%s: since' % where, minimum=1)
    if since > version:
        raise GenError(path, '%s: since %d is above the interface version %d'
                       % (where, since, version))
    return since


def children(elem, tag):
    return [c for c in elem if c.tag == tag]


def parse_args(path, msg_elem, where):
    args = []
    seen = set()
    for i, arg in enumerate(children(msg_elem, 'arg')):
        name = get_name(path, arg, '%s, arg %d' % (where, i))
        awhere = '%s, arg "%s"' % (where, name)
        check_element(path, arg, awhere)
        if name in seen:
            raise GenError(path, '%s: duplicate argument name' % awhere)
        seen.add(name)
        type_ = arg.get('type')
        if type_ is None:
            raise GenError(path, '%s: no type' % awhere)
        if type_ not in ARG_TYPES:
            raise GenError(path, '%s: bad type "%s"' % (awhere, type_))
        nullable = get_bool(path, arg, 'allow-null', awhere)
        if nullable and type_ not in NULLABLE_TYPES:
            raise GenError(path, '%s: allow-null on an argument of type %s'
                           % (awhere, type_))
        interface = arg.get('interface')
        if interface is not None:
            if type_ not in ('object', 'new_id'):
                raise GenError(path, '%s: interface on an argument of type %s'
                               % (awhere, type_))
            if not IDENT.match(interface):
                raise GenError(path, '%s: interface "%s" is not a valid '
                               'identifier' % (awhere, interface))
        enum = arg.get('enum')
        if enum is not None and type_ not in ('int', 'uint'):
            raise GenError(path, '%s: enum on an argument of type %s'
                           % (awhere, type_))
        args.append(Arg(name, type_, nullable, interface, enum))
    return args


def parse_enum(path, elem, where, version):
    name = get_name(path, elem, where)
    where = '%s, enum "%s"' % (where, name)
    check_element(path, elem, where)
    bitfield = get_bool(path, elem, 'bitfield', where)
    if elem.get('since') is not None:
        get_since(path, elem, where, version)
    entries = []
    names = set()
    for entry in children(elem, 'entry'):
        ename = get_name(path, entry, where, ENTRY_NAME)
        ewhere = '%s, entry "%s"' % (where, ename)
        check_element(path, entry, ewhere)
        if ename in names:
            raise GenError(path, '%s: duplicate entry name' % ewhere)
        names.add(ename)
        text = entry.get('value')
        if text is None:
            raise GenError(path, '%s: no value' % ewhere)
        value = parse_uint(path, text, '%s: value' % ewhere)
        since = get_since(path, entry, ewhere, version)
        entries.append(Entry(ename, value, since))
    if not entries:
        raise GenError(path, '%s: enum without entries' % where)
    return Enum(name, bitfield, entries)


def parse_file(path):
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        # str(e) ends in "line L, column C".
        raise GenError(path, 'malformed XML: %s' % e)
    except OSError as e:
        raise GenError(path, 'cannot read: %s' % e.strerror)
    root = tree.getroot()
    if root.tag != 'protocol':
        raise GenError(path, 'root element is <%s>, not <protocol>' % root.tag)
    pname = get_name(path, root, 'protocol')
    check_element(path, root, 'protocol "%s"' % pname)
    interfaces = []
    for elem in children(root, 'interface'):
        name = get_name(path, elem, 'protocol "%s"' % pname)
        where = 'interface "%s"' % name
        check_element(path, elem, where)
        vtext = elem.get('version')
        if vtext is None:
            raise GenError(path, '%s: no version' % where)
        version = parse_uint(path, vtext, '%s: version' % where, minimum=1)
        iface = Interface(path, name, version)
        for kind, out in (('request', iface.requests), ('event', iface.events)):
            names = set()
            for msg in children(elem, kind):
                mname = get_name(path, msg, where)
                mwhere = '%s, %s "%s"' % (where, kind, mname)
                check_element(path, msg, mwhere)
                if mname in names:
                    raise GenError(path, '%s: duplicate %s name' % (mwhere, kind))
                names.add(mname)
                mtype = msg.get('type')
                if mtype is not None and mtype != 'destructor':
                    raise GenError(path, '%s: bad message type "%s"'
                                   % (mwhere, mtype))
                since = get_since(path, msg, mwhere, version)
                args = parse_args(path, msg, mwhere)
                out.append(Message(kind, mname, since, mtype == 'destructor',
                                   args))
        enames = set()
        for e in children(elem, 'enum'):
            en = parse_enum(path, e, where, version)
            if en.name in enames:
                raise GenError(path, '%s, enum "%s": duplicate enum name'
                               % (where, en.name))
            enames.add(en.name)
            en.index = len(iface.enums)
            iface.enums.append(en)
        interfaces.append(iface)
    if not interfaces:
        raise GenError(path, 'protocol "%s" defines no interface' % pname)
    return interfaces


def resolve(interfaces):
    """Point every interface and enum reference at its target, across files."""
    by_name = {i.name: i for i in interfaces}
    for iface in interfaces:
        for msg in iface.requests + iface.events:
            where = 'interface "%s", %s "%s"' % (iface.name, msg.kind, msg.name)
            for arg in msg.args:
                awhere = '%s, arg "%s"' % (where, arg.name)
                if arg.interface is not None and arg.interface not in by_name:
                    raise GenError(iface.path, '%s: unknown interface "%s"'
                                   % (awhere, arg.interface))
                if arg.enum is None:
                    continue
                ref = arg.enum
                if '.' in ref:
                    owner_name, _, enum_name = ref.partition('.')
                    owner = by_name.get(owner_name)
                    if owner is None:
                        raise GenError(iface.path, '%s: enum "%s" names unknown '
                                       'interface "%s"' % (awhere, ref, owner_name))
                else:
                    owner, enum_name = iface, ref
                target = next((e for e in owner.enums if e.name == enum_name),
                              None)
                if target is None:
                    raise GenError(iface.path, '%s: unknown enum "%s"'
                                   % (awhere, ref))
                # Same rule as wayland-scanner: a bitfield is a set of bits,
                # which only an unsigned argument carries.
                if target.bitfield and arg.type != 'uint':
                    raise GenError(iface.path, '%s: bitfield enum "%s" on an '
                                   'argument of type %s' % (awhere, ref, arg.type))
                arg.enum_owner = owner
                arg.enum_target = target


class Names:
    """Hands out C identifiers and refuses two things with one name."""

    def __init__(self):
        self.used = {}

    def take(self, ident, what, path):
        if ident in self.used:
            raise GenError(path, '%s and %s both map to the C name %s'
                           % (self.used[ident], what, ident))
        self.used[ident] = what
        return ident


def c_bool(b):
    return 'true' if b else 'false'


def generate(prefix, interfaces, sources, header_name):
    macro = prefix.upper()
    names = Names()
    ifaces = sorted(interfaces, key=lambda i: i.name.encode())

    def iface_sym(name):
        return '%s_iface_%s' % (prefix, name)

    def enums_sym(iface):
        return '%s_enums' % iface.name

    for iface in ifaces:
        names.take(iface_sym(iface.name), 'interface "%s"' % iface.name,
                   iface.path)
    names.take('%s_protocols' % prefix, 'the protocol set', ifaces[0].path)
    names.take('%s_protocols_interfaces' % prefix, 'the protocol set',
               ifaces[0].path)

    banner = ''.join(
        ['/*\n * Generated by gen-tables.py. Do not edit.\n * Sources:\n'] +
        [' *   %s\n' % line for line in
         textwrap.wrap(', '.join(sources), width=70,
                       break_long_words=False, break_on_hyphens=False)] +
        [' */\n'])

    h = [banner]
    guard = '%s_TABLES_H' % macro
    h.append('#ifndef %s\n#define %s\n\n' % (guard, guard))
    h.append('#include "vmapp-protocol.h"\n\n')
    for iface in ifaces:
        h.append('extern const struct vmapp_interface %s;\n'
                 % iface_sym(iface.name))
    h.append('\nextern const struct vmapp_protocol_set %s_protocols;\n'
             % prefix)
    macros = Names()
    for iface in ifaces:
        h.append('\n/* %s, version %d */\n' % (iface.name, iface.version))
        for kind, tag, msgs in (('request', 'REQ', iface.requests),
                                ('event', 'EVT', iface.events)):
            for opcode, msg in enumerate(msgs):
                m = '%s_%s_%s_%s' % (macro, tag, iface.name.upper(),
                                     msg.name.upper())
                macros.take(m, '%s.%s (%s)' % (iface.name, msg.name, kind),
                            iface.path)
                h.append('#define %s %d\n' % (m, opcode))
    h.append('\n#endif\n')

    c = [banner]
    c.append('#include <stdbool.h>\n#include <stddef.h>\n\n')
    c.append('#include "vmapp-protocol.h"\n')
    c.append('#include "%s"\n' % header_name)

    # Enums first, all of them: an argument may point at another
    # interface's enum, and a static array must be defined before its
    # address is taken.  Designated initializers throughout, every field
    # spelled out, so that a change to the struct layout can not silently
    # shift values into the wrong fields.
    for iface in ifaces:
        if not iface.enums:
            continue
        c.append('\n')
        for en in iface.enums:
            sym = names.take('%s_enum_%s_entries' % (iface.name, en.name),
                             'enum %s.%s' % (iface.name, en.name), iface.path)
            c.append('static const struct vmapp_enum_entry %s[] = {\n' % sym)
            for e in en.entries:
                value = ('0x%x' % e.value) if en.bitfield else ('%d' % e.value)
                c.append('\t{ .name = "%s", .value = %su, .since = %d },\n'
                         % (e.name, value, e.since))
            c.append('};\n')
        sym = names.take(enums_sym(iface), 'enums of %s' % iface.name,
                         iface.path)
        c.append('static const struct vmapp_enum %s[] = {\n' % sym)
        for en in iface.enums:
            c.append('\t{ .name = "%s", .bitfield = %s, .n_entries = %d, '
                     '.entries = %s_enum_%s_entries },\n'
                     % (en.name, c_bool(en.bitfield), len(en.entries),
                        iface.name, en.name))
        c.append('};\n')

    for iface in ifaces:
        c.append('\n/* %s */\n' % iface.name)
        arrays = {}
        for kind, tag, msgs in (('request', 'req', iface.requests),
                                ('event', 'evt', iface.events)):
            for msg in msgs:
                if not msg.args:
                    continue
                sym = names.take('%s_%s_%s_args' % (iface.name, tag, msg.name),
                                 'args of %s.%s' % (iface.name, msg.name),
                                 iface.path)
                c.append('static const struct vmapp_arg %s[] = {\n' % sym)
                for a in msg.args:
                    ref = '&%s' % iface_sym(a.interface) if a.interface else 'NULL'
                    if a.enum_target is not None:
                        en = '&%s[%d]' % (enums_sym(a.enum_owner),
                                          a.enum_target.index)
                    else:
                        en = 'NULL'
                    c.append('\t{ .name = "%s", .type = %s, .nullable = %s, '
                             '.interface = %s, .enumeration = %s },\n'
                             % (a.name, ARG_TYPES[a.type], c_bool(a.nullable),
                                ref, en))
                c.append('};\n')
            arrays[kind] = 'NULL'
            if not msgs:
                continue
            sym = names.take('%s_%ss' % (iface.name, kind),
                             '%ss of %s' % (kind, iface.name), iface.path)
            arrays[kind] = sym
            c.append('static const struct vmapp_message %s[] = {\n' % sym)
            for msg in msgs:
                n_fds = sum(1 for a in msg.args if a.type == 'fd')
                args = ('%s_%s_%s_args' % (iface.name, tag, msg.name)
                        if msg.args else 'NULL')
                c.append('\t{ .name = "%s", .since = %d, .n_args = %d, '
                         '.n_fds = %d, .destructor = %s, .args = %s },\n'
                         % (msg.name, msg.since, len(msg.args), n_fds,
                            c_bool(msg.destructor), args))
            c.append('};\n')
        c.append('const struct vmapp_interface %s = {\n' % iface_sym(iface.name))
        c.append('\t.name = "%s",\n' % iface.name)
        c.append('\t.version = %d,\n' % iface.version)
        c.append('\t.n_requests = %d,\n' % len(iface.requests))
        c.append('\t.requests = %s,\n' % arrays['request'])
        c.append('\t.n_events = %d,\n' % len(iface.events))
        c.append('\t.events = %s,\n' % arrays['event'])
        c.append('\t.n_enums = %d,\n' % len(iface.enums))
        c.append('\t.enums = %s,\n' % (enums_sym(iface) if iface.enums
                                        else 'NULL'))
        c.append('};\n')

    c.append('\n/* Sorted by name (strcmp order), for vmapp_protocol_find(). */\n')
    c.append('static const struct vmapp_interface *const '
             '%s_protocols_interfaces[] = {\n' % prefix)
    for iface in ifaces:
        c.append('\t&%s,\n' % iface_sym(iface.name))
    c.append('};\n')
    c.append('const struct vmapp_protocol_set %s_protocols = {\n' % prefix)
    c.append('\t.n_interfaces = %d,\n' % len(ifaces))
    c.append('\t.interfaces = %s_protocols_interfaces,\n' % prefix)
    c.append('};\n')
    return ''.join(c), ''.join(h)


def write(path, text):
    # Through a temporary file, so that an interrupted run never leaves a
    # truncated table behind for the next incremental build.
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(
        description='Generate vmapp protocol tables from Wayland XML.')
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--output-c', required=True)
    ap.add_argument('--output-h', required=True)
    ap.add_argument('xml', nargs='+')
    opts = ap.parse_args(argv)
    if not IDENT.match(opts.prefix):
        print('gen-tables.py: error: prefix "%s" is not a C identifier'
              % opts.prefix, file=sys.stderr)
        return 1

    try:
        interfaces = []
        seen = {}
        for i, path in enumerate(opts.xml):
            if path in opts.xml[:i]:
                raise GenError(path, 'given more than once')
            for iface in parse_file(path):
                if iface.name in seen:
                    where = ('earlier in this file' if seen[iface.name] == path
                             else 'in %s' % seen[iface.name])
                    raise GenError(path, 'interface "%s" is already defined %s'
                                   % (iface.name, where))
                seen[iface.name] = path
                interfaces.append(iface)
        resolve(interfaces)
        sources = sorted(os.path.basename(p) for p in opts.xml)
        c_text, h_text = generate(opts.prefix, interfaces, sources,
                                  os.path.basename(opts.output_h))
    except GenError as e:
        print('%s: error: %s' % (e.path, e.msg), file=sys.stderr)
        return 1

    try:
        write(opts.output_h, h_text)
        write(opts.output_c, c_text)
    except OSError as e:
        print('gen-tables.py: error: cannot write %s: %s'
              % (e.filename, e.strerror), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
