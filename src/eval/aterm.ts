/**
 * A parser for Nix's `.drv` files (the ATerm `Derive(...)` form). The format has been stable for
 * years, and reading it directly avoids depending on the `nix` CLI's changing JSON shapes.
 */
import { AppError } from "../errors.js";

export interface DrvOutput {
  readonly name: string;
  /** "" for a floating content-addressed output. */
  readonly path: string;
  /** e.g. "sha256" or "r:sha256"; "" for an input-addressed output. */
  readonly hashAlgo: string;
  /** base16; "" unless fixed-output. */
  readonly hash: string;
}

export interface Derivation {
  /** In .drv order (Nix sorts them by name). */
  readonly outputs: readonly DrvOutput[];
  /** Input derivation path → the output names used, in .drv order. */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  readonly inputSrcs: readonly string[];
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

const enum Ch {
  Quote = 0x22,
  LParen = 0x28,
  RParen = 0x29,
  Comma = 0x2c,
  LBracket = 0x5b,
  RBracket = 0x5d,
  Backslash = 0x5c,
}

/** Parses the text of a `.drv` file. Throws AppError invalid_argument (naming the offset) on anything malformed. */
export function parseDerivation(text: string): Derivation {
  let pos = 0;

  const fail = (what: string): never => {
    throw new AppError("invalid_argument", `${what} at offset ${pos}`);
  };
  const expect = (code: number): void => {
    if (text.charCodeAt(pos) !== code) fail(`expected '${String.fromCharCode(code)}'`);
    pos++;
  };
  const str = (): string => {
    expect(Ch.Quote);
    let out = "";
    let start = pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c)) fail("unterminated string");
      if (c === Ch.Quote) {
        out += text.slice(start, pos);
        pos++;
        return out;
      }
      if (c === Ch.Backslash) {
        out += text.slice(start, pos);
        const n = text[pos + 1];
        if (n === undefined) fail("unterminated escape");
        out += n === "n" ? "\n" : n === "r" ? "\r" : n === "t" ? "\t" : n;
        pos += 2;
        start = pos;
        continue;
      }
      pos++;
    }
  };
  /** `[item,item,...]` */
  const list = <T>(item: () => T): T[] => {
    expect(Ch.LBracket);
    const items: T[] = [];
    if (text.charCodeAt(pos) === Ch.RBracket) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      const c = text.charCodeAt(pos);
      if (c === Ch.Comma) pos++;
      else if (c === Ch.RBracket) {
        pos++;
        return items;
      } else fail("expected ',' or ']'");
    }
  };
  const comma = (): void => expect(Ch.Comma);

  if (!text.startsWith("Derive(")) fail("expected 'Derive('");
  pos = "Derive(".length;
  const outputs = list((): DrvOutput => {
    expect(Ch.LParen);
    const name = str();
    comma();
    const path = str();
    comma();
    const hashAlgo = str();
    comma();
    const hash = str();
    expect(Ch.RParen);
    return { name, path, hashAlgo, hash };
  });
  comma();
  const inputDrvs = new Map<string, readonly string[]>();
  list(() => {
    expect(Ch.LParen);
    const drv = str();
    comma();
    const outs = list(str);
    expect(Ch.RParen);
    inputDrvs.set(drv, outs);
  });
  comma();
  const inputSrcs = list(str);
  comma();
  const system = str();
  comma();
  const builder = str();
  comma();
  const args = list(str);
  comma();
  const env = new Map<string, string>();
  list(() => {
    expect(Ch.LParen);
    const k = str();
    comma();
    const v = str();
    expect(Ch.RParen);
    env.set(k, v);
  });
  expect(Ch.RParen);
  if (pos !== text.length && text.slice(pos).trim() !== "") fail("trailing data");
  return { outputs, inputDrvs, inputSrcs, system, builder, args, env };
}
