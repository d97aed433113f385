namespace Appliance.Bpf.Jit;

internal sealed class Arm64Emitter : JitEmitter
{
    public Arm64Emitter() => throw new NotSupportedException("the arm64 emitter is not written yet");
    public override int Position => 0;
    public override void Prologue() { }
    public override void Epilogue() { }
    public override void LoadBpf(JReg d, int bpfRegister) { }
    public override void StoreBpf(int bpfRegister, JReg s) { }
    public override void LoadState(JReg d, int offset) { }
    public override void StoreState(int offset, JReg s) { }
    public override void StoreStateImm32(int offset, int value) { }
    public override void StateAddress(JReg d, int offset) { }
    public override void MovImm(JReg d, long value) { }
    public override void Mov(JReg d, JReg s) { }
    public override void Alu(JAlu op, bool is64, JReg d, JReg s) { }
    public override void AluImm(JAlu op, bool is64, JReg d, int imm) { }
    public override void Neg(bool is64, JReg d) { }
    public override void Divide(bool is64, bool signed, bool modulo) { }
    public override void SignExtend(JReg d, int fromBits, bool to64) { }
    public override void ZeroExtend(JReg d, int fromBits) { }
    public override void ByteSwap(JReg d, int bits) { }
    public override void Load(JReg d, JReg address, int displacement, int size, bool signExtend) { }
    public override void Store(JReg address, int displacement, JReg value, int size) { }
    public override void Atomic(JAtomic op, bool is64) { }
    public override void Compare(bool is64, JReg a, JReg b) { }
    public override void CompareImm(bool is64, JReg a, int imm) { }
    public override void Test(bool is64, JReg a, JReg b) { }
    public override void TestImm(bool is64, JReg a, int imm) { }
    public override void Jump(int label) { }
    public override void JumpIf(JCond cond, int label) { }
    public override void JumpRegister(JReg target) { }
    public override void LabelAddress(JReg d, int label) { }
    public override void CallRuntime(int entryOffset, JReg? arg1Register, long arg1, long arg2) { }
    public override byte[] Finish() => [];
}
