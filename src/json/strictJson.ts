/**
 * JSON that every reader reads the same way. The hub checks one reading of a message and forwards
 * its bytes, so whatever RFC 8259 leaves to the reader must be refused, or a partner could act on
 * a message the hub never checked: duplicate member names (RFC 8259 4: "the behavior of software
 * that receives such an object is unpredictable"), bytes that are not UTF-8 (8.1), escaped lone
 * surrogates (8.2), numbers no IEEE 754 double holds (6). Also refused, because no AID.02 message
 * needs them and JavaScript readers treat them specially: nesting deeper than `maxDepth` and the
 * member names `__proto__`, `constructor` and `prototype`.
 */

import { isAscii } from 'node:buffer';

export class StrictJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrictJsonError';
  }
}

/** deeper than any AID.02 message or partner system's (4 levels), shallow enough for any recursive reader */
export const MAX_JSON_DEPTH = 32;

const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const SHOWN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** the parsed value, or StrictJsonError saying what was refused; a syntax error is a SyntaxError */
export function parseStrictJson(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): unknown {
  let text: string;
  try {
    // ASCII, as AID.02 messages are, is UTF-8 already: read without the decoder's checks
    text = isAscii(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : utf8.decode(bytes);
  } catch {
    throw new StrictJsonError('the body is not valid UTF-8');
  }
  scan(text, maxDepth);
  return JSON.parse(text);
}

/**
 * One pass over the text before it is parsed, so that nesting is bounded before any recursive
 * reader sees it. It does not check the grammar (JSON.parse does); malformed input only has to
 * leave it in a state JSON.parse then refuses.
 */
function scan(text: string, maxDepth: number): void {
  // per open container: the member names seen in an object, null for an array
  const open: (Names | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      if (open.length >= maxDepth) throw new StrictJsonError(`the body nests deeper than ${maxDepth} levels`);
      open.push(c === 0x7b ? [] : null);
      expectName = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c) {
      expectName = open.length > 0 && open[open.length - 1] !== null;
    } else if (c === 0x3a) {
      expectName = false;
    } else if (c === 0x22) {
      const end = endOfString(text, i);
      if (expectName) {
        const top = open.length - 1;
        open[top] = memberName(open[top], text.slice(i, end + 1));
        expectName = false;
      }
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && isNumberChar(text.charCodeAt(j))) j++;
      checkNumber(text.slice(i, j));
      i = j - 1;
    }
  }
}

/** an object's member names: a list while short (an AID.02 object has a few, and a Set costs more
 * to make than a short list to search), a Set past SHORT_LIST, so that a body of many members
 * costs linear time */
type Names = string[] | Set<string>;
const SHORT_LIST = 16;

/** the names with this one added; refused when it is there already or not allowed */
function memberName(names: Names | null, literal: string): Names | null {
  if (!names) return names;
  let name: string;
  // a name without escapes is its own text; JSON.parse only for the rest (and an unterminated one)
  const plain = literal.length >= 2 && literal.endsWith('"') && !literal.includes('\\');
  if (plain) name = literal.slice(1, -1);
  else {
    try {
      name = JSON.parse(literal) as string;
    } catch {
      return names;
    }
  }
  if (FORBIDDEN_NAMES.has(name)) throw new StrictJsonError(`the member name${shown(name)} is not allowed`);
  if (Array.isArray(names) ? names.includes(name) : names.has(name)) throw new StrictJsonError(`the member${shown(name)} appears twice in one object`);
  if (!Array.isArray(names)) return names.add(name);
  if (names.length < SHORT_LIST) {
    names.push(name);
    return names;
  }
  return new Set([...names, name]);
}

/** a name safe to quote in a message, else nothing */
function shown(name: string): string {
  return SHOWN_NAME.test(name) ? ` "${name}"` : '';
}

/** the index of the closing quote (or the end of the text); escaped surrogates must pair */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  let pendingHigh = false;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) break;
    if (c !== 0x5c) {
      if (pendingHigh) throw loneSurrogate();
      i++;
      continue;
    }
    if (text.charCodeAt(i + 1) !== 0x75) {
      if (pendingHigh) throw loneSurrogate();
      i += 2;
      continue;
    }
    const unit = parseInt(text.slice(i + 2, i + 6), 16);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    if (pendingHigh !== low) throw loneSurrogate();
    pendingHigh = high;
    i += 6;
  }
  if (pendingHigh) throw loneSurrogate();
  return i;
}

function loneSurrogate(): StrictJsonError {
  return new StrictJsonError('the body escapes a lone surrogate (not a character; RFC 8259 8.2)');
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/** a number two readers could read as two values: beyond a double, or an integer beyond 2^53 */
function checkNumber(literal: string): void {
  const value = Number(literal);
  if (Number.isNaN(value)) return;
  if (!Number.isFinite(value)) throw new StrictJsonError('a number in the body is too large for a double');
  if (!/[.eE]/.test(literal) && !Number.isSafeInteger(value)) throw new StrictJsonError('an integer in the body is beyond 2^53 and would lose digits');
}
