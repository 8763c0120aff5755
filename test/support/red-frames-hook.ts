import type { FramesToCheck, SafetyHook } from "../../gpu-functions/safety/hook.ts";

/**
 * A stand-in second-stage classifier for the integration test: a real check on the real
 * frames (the share of strongly red pixels), flagging "red" content as a deployment's model
 * would flag unsafe content. Not a safety model.
 */
const hook: SafetyHook = {
  name: "test-red-frames",
  checkFrames(chunk: FramesToCheck) {
    const px = chunk.width * chunk.height * chunk.frameCount;
    let red = 0;
    for (let i = 0; i < px * 3; i += 3) {
      if (chunk.frames[i]! > 180 && chunk.frames[i + 1]! < 80 && chunk.frames[i + 2]! < 80) red++;
    }
    const share = red / px;
    return { flagged: share > 0.005, categories: share > 0.005 ? ["test_red"] : [], detail: `red share ${share.toFixed(4)}` };
  },
};
export default hook;
