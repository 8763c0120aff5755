import { describe, expect, it } from "vitest";
import { WordTokenizer } from "./tokenizer.ts";

const vocab = ["<pad>", "<unk>", "red", "ball", "红色", "红", "球", "的"];
const tok = new WordTokenizer({ vocab, maxLength: 6, padId: 0, unkId: 1 });
const ids = (text: string) => Array.from(tok.encode(text), Number);

describe("the word-level tokenizer", () => {
  it("lower-cases, splits on punctuation, maps unknown words to <unk> and pads", () => {
    expect(ids("A RED, ball!")).toEqual([1, 2, 3, 0, 0, 0]);
  });

  it("splits Chinese greedily, longest known word first", () => {
    expect(ids("红色的球")).toEqual([4, 7, 6, 0, 0, 0]);
    expect(ids("红球")).toEqual([5, 6, 0, 0, 0, 0]);
  });

  it("handles mixed scripts and cuts at maxLength", () => {
    expect(ids("red红色ball球 red red red")).toEqual([2, 4, 3, 6, 2, 2]);
  });
});
