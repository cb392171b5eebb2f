// FsanPass: fibersan's instrumentation, an LLVM 14 new-pass-manager plugin
// (clang++-14 -fpass-plugin=FsanPass.so, or opt -load-pass-plugin). Modelled on
// LLVM's ThreadSanitizer.cpp; the ABI it targets is runtime/race/race_abi.h.
//
// Two module passes:
//   fsan-mark-runtime  pipeline start, before any inlining: tags the runtime's
//                      own inline code (namespace fsan, and the std:: helpers it
//                      calls, cloned so user calls to them stay instrumented) so
//                      that once inlined into user functions it is left alone.
//   fsan               optimizer last (also at -O0): plain accesses become
//                      __fsan_readN/writeN calls, atomics are replaced by
//                      __fsan_atomicN_* calls that perform them, memory
//                      intrinsics by __fsan_mem*, functions report entry/exit,
//                      and a module constructor calls __fsan_init.
// Every hook name comes from the size tables below; every skip has a counter
// (fsan_pass_stats.inc), printed with -mllvm -fsan-stats.
#include <array>
#include <cstdint>
#include <string>

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Triple.h"
#include "llvm/Analysis/CaptureTracking.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/EscapeEnumerator.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

namespace {

cl::opt<bool> ClStats("fsan-stats", cl::desc("fibersan: print the instrumentation counters of each module to stderr"),
                      cl::Hidden, cl::init(false));
cl::opt<bool> ClPrintHooks("fsan-print-hooks",
                           cl::desc("fibersan: print every runtime hook the pass can call, one per line, to stdout"),
                           cl::Hidden, cl::init(false));

constexpr char kModuleCtorName[] = "fsan.module_ctor";
constexpr char kInitName[] = "__fsan_init";
constexpr char kFuncEntryName[] = "__fsan_func_entry";
constexpr char kFuncExitName[] = "__fsan_func_exit";
constexpr char kRuntimeMD[] = "fsan.runtime";                 // instruction came from the runtime's inline code
constexpr char kRuntimeAttr[] = "fsan-runtime";               // function is runtime code (namespace fsan or a clone)
constexpr char kCloneSuffix[] = ".fsan_rt";                   // std:: helper cloned for runtime callers
constexpr char kNoSanitizeAnnotation[] = "fsan_no_sanitize";  // FSAN_NO_SANITIZE

// The size table race_abi.h exports: __fsan_read1 .. __fsan_read16. The
// atomics use the first kNumAtomicSizes rows: __fsan_atomic8_* .. __fsan_atomic64_*.
constexpr std::array<unsigned, 5> kAccessSizes = {1, 2, 4, 8, 16};
constexpr size_t kNumAccessSizes = kAccessSizes.size();
constexpr size_t kNumAtomicSizes = 4;

// The read-modify-write operations with a hook, by their race_abi.h suffix.
struct RMWHook {
  AtomicRMWInst::BinOp op;
  const char* suffix;
};
constexpr std::array<RMWHook, 7> kRMWHooks = {{{AtomicRMWInst::Xchg, "exchange"},
                                               {AtomicRMWInst::Add, "fetch_add"},
                                               {AtomicRMWInst::Sub, "fetch_sub"},
                                               {AtomicRMWInst::And, "fetch_and"},
                                               {AtomicRMWInst::Or, "fetch_or"},
                                               {AtomicRMWInst::Xor, "fetch_xor"},
                                               {AtomicRMWInst::Nand, "fetch_nand"}}};

struct Stats {
#define FSAN_STAT(name, desc) std::uint64_t name = 0;
#include "fsan_pass_stats.inc"
#undef FSAN_STAT

  void print(raw_ostream& OS, StringRef Module) const {
    OS << "fsan-stats: " << Module << "\n";
#define FSAN_STAT(name, desc) OS << format("  %8llu  ", static_cast<unsigned long long>(name)) << desc << "\n";
#include "fsan_pass_stats.inc"
#undef FSAN_STAT
  }
};

// ---------------------------------------------------------------------------
// Names.

// startsWithScope: whether mangled name N is an entity of one of the given
// top-level scopes (source names as mangled: "4fsan", "St", "9__gnu_cxx"),
// including entities local to such a function (_ZZN4fsan3run...E...) and
// members with cv/ref qualifiers (_ZNK4fsan...).
bool startsWithScope(StringRef N, ArrayRef<StringRef> Scopes, bool AllowUnscopedStd) {
  if (!N.consume_front("_Z")) return false;
  N.consume_front("Z");
  if (!N.consume_front("N")) {
    // Unscoped names can only be std's (_ZSt4move...).
    return AllowUnscopedStd && N.startswith("St");
  }
  while (!N.empty() && (N.front() == 'r' || N.front() == 'V' || N.front() == 'K')) N = N.drop_front();
  if (!N.empty() && (N.front() == 'R' || N.front() == 'O')) N = N.drop_front();
  for (StringRef S : Scopes)
    if (N.startswith(S)) return true;
  return false;
}

// isRuntimeName: fibersan's own namespace (the inline headers of runtime/include/fsan).
bool isRuntimeName(StringRef N) { return startsWithScope(N, {"4fsan"}, false); }

// isStdName: the standard library (std::, its abbreviations, __gnu_cxx::).
bool isStdName(StringRef N) {
  return startsWithScope(N, {"St", "Sa", "Sb", "Ss", "Si", "So", "Sd", "9__gnu_cxx"}, true);
}

// subprogramName: the mangled name of a debug-info function, for the same tests.
StringRef subprogramName(const DISubprogram* SP) {
  StringRef N = SP->getLinkageName();
  return N.empty() ? SP->getName() : N;
}

// isRuntimeCodeByDebugLoc: walking an instruction's inline chain from the
// innermost frame outwards through std:: frames, the first other frame is
// namespace fsan: the instruction is the runtime's code (maybe inlined into
// user code). Catches what lost its tag to an optimization, when built -g.
bool isRuntimeCodeByDebugLoc(const Instruction& I) {
  for (const DILocation* Loc = I.getDebugLoc().get(); Loc; Loc = Loc->getInlinedAt()) {
    const DISubprogram* SP = Loc->getScope()->getSubprogram();
    if (!SP) return false;
    StringRef N = subprogramName(SP);
    if (isRuntimeName(N)) return true;
    if (!isStdName(N)) return false;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The runtime tag.
//
// Tagged instructions carry two marks. !fsan.runtime is ours alone, and
// optimizations drop unknown metadata whenever they rebuild a load or store
// (InstCombine retyping a pointer load, SROA splitting one). So they are also
// put in a private access group (!llvm.access.group, listed in the module's
// !fsan.runtime.group): LLVM carries access groups through those rewrites
// and intersects them when it merges two accesses, and as no loop refers to
// the group it changes no optimization. Calls are never tagged: the inliner
// would spread a call's access group over everything it inlines, user code
// included.

constexpr char kRuntimeGroupMD[] = "fsan.runtime.group";

// isMemoryAccess: what the marking pass tags and the instrumentation checks.
bool isMemoryAccess(const Instruction& I) {
  return isa<LoadInst>(I) || isa<StoreInst>(I) || isa<AtomicRMWInst>(I) || isa<AtomicCmpXchgInst>(I) ||
         isa<FenceInst>(I) || isa<MemIntrinsic>(I);
}

MDNode* runtimeAccessGroup(Module& M, bool Create) {
  NamedMDNode* NMD = Create ? M.getOrInsertNamedMetadata(kRuntimeGroupMD) : M.getNamedMetadata(kRuntimeGroupMD);
  if (!NMD) return nullptr;
  if (NMD->getNumOperands() == 0) {
    if (!Create) return nullptr;
    NMD->addOperand(MDNode::getDistinct(M.getContext(), {}));
  }
  return NMD->getOperand(0);
}

// addAccessGroup: adds Group to I's access groups (a single group, or a list).
void addAccessGroup(Instruction& I, MDNode* Group) {
  MDNode* Old = I.getMetadata(LLVMContext::MD_access_group);
  if (!Old) {
    I.setMetadata(LLVMContext::MD_access_group, Group);
    return;
  }
  SmallVector<Metadata*, 4> List;
  if (Old->getNumOperands() == 0) {
    List.push_back(Old);
  } else {
    List.append(Old->op_begin(), Old->op_end());
  }
  if (is_contained(List, Group)) return;
  List.push_back(Group);
  I.setMetadata(LLVMContext::MD_access_group, MDNode::get(I.getContext(), List));
}

bool hasAccessGroup(const Instruction& I, const MDNode* Group) {
  if (!Group) return false;
  const MDNode* MD = I.getMetadata(LLVMContext::MD_access_group);
  if (!MD) return false;
  return MD == Group || is_contained(MD->operands(), Group);
}

// ---------------------------------------------------------------------------
// fsan-mark-runtime

struct FsanMarkRuntimePass : PassInfoMixin<FsanMarkRuntimePass> {
  PreservedAnalyses run(Module& M, ModuleAnalysisManager&);
  static bool isRequired() { return true; }  // runs on optnone (-O0) functions too
};

bool isCloneableStdCallee(const Function* F) {
  if (!F || F->isDeclaration() || F->isIntrinsic() || !isStdName(F->getName())) return false;
  return F->hasLinkOnceODRLinkage() || F->hasWeakODRLinkage() || F->hasLocalLinkage() ||
         F->hasAvailableExternallyLinkage();
}

PreservedAnalyses FsanMarkRuntimePass::run(Module& M, ModuleAnalysisManager&) {
  LLVMContext& Ctx = M.getContext();
  const unsigned Kind = Ctx.getMDKindID(kRuntimeMD);
  MDNode* Tag = MDNode::get(Ctx, {});
  SmallVector<Function*, 16> Work;
  DenseMap<Function*, Function*> Clones;
  for (Function& F : M)
    if (!F.isDeclaration() && isRuntimeName(F.getName())) Work.push_back(&F);
  if (Work.empty()) return PreservedAnalyses::all();
  MDNode* Group = runtimeAccessGroup(M, /*Create=*/true);

  // Tag every memory instruction of the runtime's functions. A std:: helper
  // they call directly is cloned (and its helpers in turn) so its accesses,
  // once inlined through the runtime, are tagged too, while user code calling
  // the same helper keeps the instrumented original.
  while (!Work.empty()) {
    Function* F = Work.pop_back_val();
    F->addFnAttr(kRuntimeAttr);
    for (Instruction& I : instructions(F)) {
      if (isMemoryAccess(I)) {
        I.setMetadata(Kind, Tag);
        addAccessGroup(I, Group);
      }
      auto* CB = dyn_cast<CallBase>(&I);
      if (!CB) continue;
      Function* Callee = CB->getCalledFunction();
      if (!isCloneableStdCallee(Callee)) continue;
      auto It = Clones.find(Callee);
      if (It == Clones.end()) {
        ValueToValueMapTy VMap;
        Function* Clone = CloneFunction(Callee, VMap);
        Clone->setName(Callee->getName() + kCloneSuffix);
        Clone->setLinkage(GlobalValue::InternalLinkage);
        Clone->setVisibility(GlobalValue::DefaultVisibility);
        Clone->setDLLStorageClass(GlobalValue::DefaultStorageClass);
        Clone->setComdat(nullptr);
        // -fsanitize=function's prologue holds the original's address
        // relative to itself; a clone is only ever called directly.
        Clone->setPrologueData(nullptr);
        Clone->setPrefixData(nullptr);
        It = Clones.try_emplace(Callee, Clone).first;
        Work.push_back(Clone);
      }
      CB->setCalledFunction(It->second);
    }
  }
  return PreservedAnalyses::none();
}

// ---------------------------------------------------------------------------
// fsan

struct FsanPass : PassInfoMixin<FsanPass> {
  PreservedAnalyses run(Module& M, ModuleAnalysisManager&);
  static bool isRequired() { return true; }
};

// HookNames: every hook name, built from the size tables once.
struct HookNames {
  std::array<std::string, kNumAccessSizes> read, write, unaligned_read, unaligned_write;
  std::array<std::string, kNumAtomicSizes> atomic_load, atomic_store, atomic_cas;
  std::array<std::array<std::string, kRMWHooks.size()>, kNumAtomicSizes> atomic_rmw;

  HookNames() {
    for (size_t i = 0; i < kNumAccessSizes; ++i) {
      std::string n = std::to_string(kAccessSizes[i]);
      read[i] = "__fsan_read" + n;
      write[i] = "__fsan_write" + n;
      if (kAccessSizes[i] > 1) {  // a single byte is always aligned
        unaligned_read[i] = "__fsan_unaligned_read" + n;
        unaligned_write[i] = "__fsan_unaligned_write" + n;
      }
    }
    for (size_t i = 0; i < kNumAtomicSizes; ++i) {
      std::string p = "__fsan_atomic" + std::to_string(kAccessSizes[i] * 8) + "_";
      atomic_load[i] = p + "load";
      atomic_store[i] = p + "store";
      atomic_cas[i] = p + "compare_exchange_val";
      for (size_t r = 0; r < kRMWHooks.size(); ++r) atomic_rmw[i][r] = p + kRMWHooks[r].suffix;
    }
  }

  void print(raw_ostream& OS) const {
    OS << kInitName << "\n" << kFuncEntryName << "\n" << kFuncExitName << "\n";
    for (size_t i = 0; i < kNumAccessSizes; ++i) {
      OS << read[i] << "\n" << write[i] << "\n";
      if (!unaligned_read[i].empty()) OS << unaligned_read[i] << "\n" << unaligned_write[i] << "\n";
    }
    OS << "__fsan_read_range\n__fsan_write_range\n__fsan_memcpy\n__fsan_memmove\n__fsan_memset\n";
    for (size_t i = 0; i < kNumAtomicSizes; ++i) {
      OS << atomic_load[i] << "\n" << atomic_store[i] << "\n" << atomic_cas[i] << "\n";
      for (const std::string& r : atomic_rmw[i]) OS << r << "\n";
    }
    OS << "__fsan_atomic_thread_fence\n__fsan_atomic_signal_fence\n";
  }
};

const HookNames& hookNames() {
  static const HookNames names;
  return names;
}

int sizeIndex(std::uint64_t Bytes) {
  for (size_t i = 0; i < kNumAccessSizes; ++i)
    if (kAccessSizes[i] == Bytes) return static_cast<int>(i);
  return -1;
}

// The memory order numbering of race_abi.h (std::memory_order's).
int abiOrder(AtomicOrdering O) {
  switch (O) {
    case AtomicOrdering::NotAtomic:
    case AtomicOrdering::Unordered:
    case AtomicOrdering::Monotonic:
      return 0;
    case AtomicOrdering::Acquire:
      return 2;
    case AtomicOrdering::Release:
      return 3;
    case AtomicOrdering::AcquireRelease:
      return 4;
    case AtomicOrdering::SequentiallyConsistent:
      return 5;
  }
  return 5;
}

bool isVtableAccess(const Instruction* I) {
  if (const MDNode* Tag = I->getMetadata(LLVMContext::MD_tbaa)) return Tag->isTBAAVtableAccess();
  return false;
}

// isAtomicAccess: an atomic the runtime must perform (signal-fence-scoped
// loads and stores order nothing across fibers and stay plain accesses).
bool isAtomicAccess(const Instruction& I) {
  if (auto* LI = dyn_cast<LoadInst>(&I)) return LI->isAtomic() && LI->getSyncScopeID() != SyncScope::SingleThread;
  if (auto* SI = dyn_cast<StoreInst>(&I)) return SI->isAtomic() && SI->getSyncScopeID() != SyncScope::SingleThread;
  return isa<AtomicRMWInst>(I) || isa<AtomicCmpXchgInst>(I) || isa<FenceInst>(I);
}

class Instrumenter {
 public:
  Instrumenter(Module& M, Stats& S)
      : M(M),
        Ctx(M.getContext()),
        DL(M.getDataLayout()),
        S(S),
        RuntimeKind(Ctx.getMDKindID(kRuntimeMD)),
        NoSanitizeKind(Ctx.getMDKindID("nosanitize")),
        RuntimeGroup(runtimeAccessGroup(M, /*Create=*/false)) {
    Int8PtrTy = Type::getInt8PtrTy(Ctx);
    Int32Ty = Type::getInt32Ty(Ctx);
    IntptrTy = DL.getIntPtrType(Ctx);
    VoidTy = Type::getVoidTy(Ctx);
    NoUnwind = AttributeList().addFnAttribute(Ctx, Attribute::NoUnwind);
    collectNoSanitizeFunctions();
  }

  bool sanitizeFunction(Function& F);
  void insertModuleCtor();

 private:
  struct Access {
    Instruction* I;
  };

  FunctionCallee hook(StringRef Name, Type* Ret, ArrayRef<Type*> Params, AttributeList AL) {
    return M.getOrInsertFunction(Name, FunctionType::get(Ret, Params, false), AL);
  }
  FunctionCallee hook(StringRef Name, Type* Ret, ArrayRef<Type*> Params) { return hook(Name, Ret, Params, NoUnwind); }
  // The iN atomic hooks take and return uintN_t: extended like C does.
  AttributeList atomicAttrs(unsigned Bits, ArrayRef<unsigned> ValueParams, bool ValueReturn) {
    AttributeList AL = NoUnwind;
    if (Bits > 16) return AL;
    for (unsigned P : ValueParams) AL = AL.addParamAttribute(Ctx, P, Attribute::ZExt);
    if (ValueReturn) AL = AL.addRetAttribute(Ctx, Attribute::ZExt);
    return AL;
  }

  void collectNoSanitizeFunctions();
  bool skipTagged(const Instruction& I);
  bool isNonEscapingAlloca(const Value* Addr);
  bool shouldInstrumentAddress(Value* Addr);
  void chooseAccesses(SmallVectorImpl<Instruction*>& Local, SmallVectorImpl<Access>& All);
  bool instrumentLoadOrStore(Instruction* I);
  bool instrumentAtomic(Instruction* I);
  bool instrumentMemIntrinsic(MemIntrinsic* MI);
  void ensureDebugLoc(IRBuilder<>& IRB, Function& F);

  Module& M;
  LLVMContext& Ctx;
  const DataLayout& DL;
  Stats& S;
  const unsigned RuntimeKind;
  const unsigned NoSanitizeKind;  // !nosanitize (a named kind in LLVM 14)
  const MDNode* RuntimeGroup;     // the runtime's access group, if fsan-mark-runtime ran
  Type *Int8PtrTy, *Int32Ty, *IntptrTy, *VoidTy;
  AttributeList NoUnwind;
  SmallPtrSet<const Function*, 8> NoSanitize;
  DenseMap<const Value*, bool> AllocaEscapes;
};

// FSAN_NO_SANITIZE is annotate("fsan_no_sanitize"): clang lists it in
// @llvm.global.annotations as {i8* function, i8* string, i8* file, i32 line, ...}.
void Instrumenter::collectNoSanitizeFunctions() {
  GlobalVariable* GA = M.getNamedGlobal("llvm.global.annotations");
  if (!GA || !GA->hasInitializer()) return;
  auto* Arr = dyn_cast<ConstantArray>(GA->getInitializer());
  if (!Arr) return;
  for (const Use& U : Arr->operands()) {
    auto* Entry = dyn_cast<ConstantStruct>(U.get());
    if (!Entry || Entry->getNumOperands() < 2) continue;
    auto* Fn = dyn_cast<Function>(Entry->getOperand(0)->stripPointerCasts());
    auto* Str = dyn_cast<GlobalVariable>(Entry->getOperand(1)->stripPointerCasts());
    if (!Fn || !Str || !Str->hasInitializer()) continue;
    auto* Data = dyn_cast<ConstantDataSequential>(Str->getInitializer());
    if (Data && Data->isCString() && Data->getAsCString() == kNoSanitizeAnnotation) NoSanitize.insert(Fn);
  }
}

// skipTagged: accesses the user asked to leave alone (!nosanitize) or that
// are the runtime's own code inlined here; counts why.
bool Instrumenter::skipTagged(const Instruction& I) {
  if (I.hasMetadata(NoSanitizeKind)) {
    ++S.SkippedNoSanitizeMetadata;
    return true;
  }
  if (I.hasMetadata(RuntimeKind) || hasAccessGroup(I, RuntimeGroup) || isRuntimeCodeByDebugLoc(I)) {
    ++S.SkippedRuntimeInlined;
    return true;
  }
  return false;
}

// isNonEscapingAlloca: Addr points into a stack object whose address never
// leaves the function, so no other fiber can reach it.
bool Instrumenter::isNonEscapingAlloca(const Value* Addr) {
  const Value* Obj = getUnderlyingObject(Addr);
  if (!isa<AllocaInst>(Obj)) return false;
  auto It = AllocaEscapes.find(Obj);
  if (It == AllocaEscapes.end())
    It = AllocaEscapes.try_emplace(Obj, PointerMayBeCaptured(Obj, /*ReturnCaptures=*/true, /*StoreCaptures=*/true))
             .first;
  return !It->second;
}

// shouldInstrumentAddress: not compiler-generated counters (PGO, gcov), and
// address space 0 only.
bool Instrumenter::shouldInstrumentAddress(Value* Addr) {
  Value* Base = Addr->stripInBoundsOffsets();
  if (auto* GV = dyn_cast<GlobalVariable>(Base)) {
    if (GV->hasSection()) {
      auto OF = Triple(M.getTargetTriple()).getObjectFormat();
      if (GV->getSection().endswith(getInstrProfSectionName(IPSK_cnts, OF, /*AddSegmentInfo=*/false))) return false;
    }
    if (GV->getName().startswith("__llvm_gcov") || GV->getName().startswith("__llvm_gcda")) return false;
  }
  return Addr->getType()->getPointerAddressSpace() == 0;
}

// chooseAccesses: Local holds a block's loads and stores since the last call
// or atomic (nothing in between can synchronize). Walking backwards, a read
// of an address written later in Local is covered by that write; reads of
// constant memory cannot race; non-escaping allocas are private.
void Instrumenter::chooseAccesses(SmallVectorImpl<Instruction*>& Local, SmallVectorImpl<Access>& All) {
  SmallPtrSet<Value*, 8> WrittenLater;
  for (Instruction* I : reverse(Local)) {
    const bool IsWrite = isa<StoreInst>(I);
    Value* Addr = getLoadStorePointerOperand(I);
    if (!shouldInstrumentAddress(Addr)) {
      ++S.SkippedOtherAddressSpace;
      continue;
    }
    if (!IsWrite) {
      if (WrittenLater.count(Addr)) {
        ++S.SkippedReadsBeforeWrite;
        continue;
      }
      if (isVtableAccess(I)) {
        ++S.SkippedVtableLoads;
        continue;
      }
      if (I->hasMetadata(LLVMContext::MD_invariant_load)) {
        ++S.SkippedInvariantLoads;
        continue;
      }
      if (auto* GV = dyn_cast<GlobalVariable>(getUnderlyingObject(Addr)); GV && GV->isConstant()) {
        ++S.SkippedConstantGlobals;
        continue;
      }
    }
    if (isNonEscapingAlloca(Addr)) {
      ++S.SkippedNonEscapingAllocas;
      continue;
    }
    All.push_back({I});
    if (IsWrite) WrittenLater.insert(Addr);
  }
  Local.clear();
}

void Instrumenter::ensureDebugLoc(IRBuilder<>& IRB, Function& F) {
  if (IRB.getCurrentDebugLocation()) return;
  if (DISubprogram* SP = F.getSubprogram()) IRB.SetCurrentDebugLocation(DILocation::get(Ctx, 0, 0, SP));
}

bool Instrumenter::instrumentLoadOrStore(Instruction* I) {
  const HookNames& H = hookNames();
  const bool IsWrite = isa<StoreInst>(I);
  Value* Addr = getLoadStorePointerOperand(I);
  TypeSize Size = DL.getTypeStoreSize(getLoadStoreType(I));
  if (Size.isScalable()) {
    ++S.SkippedUnsizedAccesses;
    return false;
  }
  const std::uint64_t Bytes = Size.getFixedSize();
  IRBuilder<> IRB(I);
  ensureDebugLoc(IRB, *I->getFunction());
  Value* P = IRB.CreatePointerCast(Addr, Int8PtrTy);
  const int Idx = sizeIndex(Bytes);
  if (Idx < 0) {
    IRB.CreateCall(hook(IsWrite ? "__fsan_write_range" : "__fsan_read_range", VoidTy, {Int8PtrTy, IntptrTy}),
                   {P, ConstantInt::get(IntptrTy, Bytes)});
    ++S.InstrumentedRanges;
    return true;
  }
  const bool Aligned = Bytes == 1 || getLoadStoreAlignment(I).value() >= Bytes;
  StringRef Name;
  if (Aligned) {
    Name = IsWrite ? H.write[Idx] : H.read[Idx];
    ++(IsWrite ? S.InstrumentedWrites : S.InstrumentedReads);
  } else {
    Name = IsWrite ? H.unaligned_write[Idx] : H.unaligned_read[Idx];
    ++S.InstrumentedUnaligned;
  }
  IRB.CreateCall(hook(Name, VoidTy, {Int8PtrTy}), {P});
  return true;
}

// instrumentAtomic: replaces the instruction by the hook that performs it
// with the same memory order, as ThreadSanitizer does.
bool Instrumenter::instrumentAtomic(Instruction* I) {
  const HookNames& H = hookNames();
  IRBuilder<> IRB(I);
  ensureDebugLoc(IRB, *I->getFunction());
  auto order = [&](AtomicOrdering O) { return ConstantInt::get(Int32Ty, abiOrder(O)); };

  if (auto* FI = dyn_cast<FenceInst>(I)) {
    const bool Signal = FI->getSyncScopeID() == SyncScope::SingleThread;
    IRB.CreateCall(hook(Signal ? "__fsan_atomic_signal_fence" : "__fsan_atomic_thread_fence", VoidTy, {Int32Ty}),
                   {order(FI->getOrdering())});
    I->eraseFromParent();
    ++S.InstrumentedFences;
    return true;
  }

  Value* Addr = nullptr;
  Type* ValTy = nullptr;
  if (auto* LI = dyn_cast<LoadInst>(I)) {
    Addr = LI->getPointerOperand();
    ValTy = LI->getType();
  } else if (auto* SI = dyn_cast<StoreInst>(I)) {
    Addr = SI->getPointerOperand();
    ValTy = SI->getValueOperand()->getType();
  } else if (auto* RMW = dyn_cast<AtomicRMWInst>(I)) {
    Addr = RMW->getPointerOperand();
    ValTy = RMW->getValOperand()->getType();
  } else {
    auto* CAS = cast<AtomicCmpXchgInst>(I);
    Addr = CAS->getPointerOperand();
    ValTy = CAS->getNewValOperand()->getType();
  }
  TypeSize Size = DL.getTypeStoreSize(ValTy);
  const int Idx = Size.isScalable() ? -1 : sizeIndex(Size.getFixedSize());
  if (Idx < 0 || Idx >= static_cast<int>(kNumAtomicSizes) || Addr->getType()->getPointerAddressSpace() != 0 ||
      !(ValTy->isIntegerTy() || ValTy->isPointerTy() || ValTy->isFloatingPointTy())) {
    ++S.SkippedUnsupportedAtomics;
    return false;
  }
  const unsigned Bits = kAccessSizes[Idx] * 8;
  Type* IntTy = IRB.getIntNTy(Bits);
  Type* IntPtrTy = IntTy->getPointerTo();
  Value* P = IRB.CreatePointerCast(Addr, IntPtrTy);

  if (auto* LI = dyn_cast<LoadInst>(I)) {
    Value* V = IRB.CreateCall(hook(H.atomic_load[Idx], IntTy, {IntPtrTy, Int32Ty}, atomicAttrs(Bits, {}, true)),
                              {P, order(LI->getOrdering())});
    I->replaceAllUsesWith(IRB.CreateBitOrPointerCast(V, ValTy));
  } else if (auto* SI = dyn_cast<StoreInst>(I)) {
    IRB.CreateCall(hook(H.atomic_store[Idx], VoidTy, {IntPtrTy, IntTy, Int32Ty}, atomicAttrs(Bits, {1}, false)),
                   {P, IRB.CreateBitOrPointerCast(SI->getValueOperand(), IntTy), order(SI->getOrdering())});
  } else if (auto* RMW = dyn_cast<AtomicRMWInst>(I)) {
    const RMWHook* Hook = nullptr;
    size_t HookIdx = 0;
    for (; HookIdx < kRMWHooks.size(); ++HookIdx)
      if (kRMWHooks[HookIdx].op == RMW->getOperation()) {
        Hook = &kRMWHooks[HookIdx];
        break;
      }
    // Arithmetic hooks are integer-only; exchange also moves pointers and floats.
    if (!Hook || (Hook->op != AtomicRMWInst::Xchg && !ValTy->isIntegerTy())) {
      ++S.SkippedUnsupportedAtomics;
      return false;
    }
    Value* V = IRB.CreateCall(
        hook(H.atomic_rmw[Idx][HookIdx], IntTy, {IntPtrTy, IntTy, Int32Ty}, atomicAttrs(Bits, {1}, true)),
        {P, IRB.CreateBitOrPointerCast(RMW->getValOperand(), IntTy), order(RMW->getOrdering())});
    I->replaceAllUsesWith(IRB.CreateBitOrPointerCast(V, ValTy));
  } else if (auto* CAS = dyn_cast<AtomicCmpXchgInst>(I)) {
    Value* Cmp = IRB.CreateBitOrPointerCast(CAS->getCompareOperand(), IntTy);
    Value* New = IRB.CreateBitOrPointerCast(CAS->getNewValOperand(), IntTy);
    Value* Old = IRB.CreateCall(
        hook(H.atomic_cas[Idx], IntTy, {IntPtrTy, IntTy, IntTy, Int32Ty, Int32Ty}, atomicAttrs(Bits, {1, 2}, true)),
        {P, Cmp, New, order(CAS->getSuccessOrdering()), order(CAS->getFailureOrdering())});
    Value* Success = IRB.CreateICmpEQ(Old, Cmp);
    Value* Res = IRB.CreateInsertValue(UndefValue::get(CAS->getType()), IRB.CreateBitOrPointerCast(Old, ValTy), 0);
    Res = IRB.CreateInsertValue(Res, Success, 1);
    I->replaceAllUsesWith(Res);
  }
  I->eraseFromParent();
  ++S.InstrumentedAtomics;
  return true;
}

// instrumentMemIntrinsic: replaces llvm.memcpy/memmove/memset by the hooks,
// which check the ranges and do the operation.
bool Instrumenter::instrumentMemIntrinsic(MemIntrinsic* MI) {
  auto isPrivate = [&](Value* P) {
    if (isNonEscapingAlloca(P)) return true;
    auto* GV = dyn_cast<GlobalVariable>(getUnderlyingObject(P));
    return GV && GV->isConstant();
  };
  auto* MT = dyn_cast<MemTransferInst>(MI);
  if (isNonEscapingAlloca(MI->getRawDest()) && (!MT || isPrivate(MT->getRawSource()))) {
    ++S.SkippedLocalMemIntrinsics;
    return false;
  }
  IRBuilder<> IRB(MI);
  ensureDebugLoc(IRB, *MI->getFunction());
  Value* Len = IRB.CreateIntCast(MI->getLength(), IntptrTy, false);
  Value* Dst = IRB.CreatePointerCast(MI->getRawDest(), Int8PtrTy);
  if (auto* MS = dyn_cast<MemSetInst>(MI)) {
    IRB.CreateCall(hook("__fsan_memset", Int8PtrTy, {Int8PtrTy, Int32Ty, IntptrTy}),
                   {Dst, IRB.CreateIntCast(MS->getValue(), Int32Ty, false), Len});
  } else if (MT) {
    IRB.CreateCall(
        hook(isa<MemCpyInst>(MT) ? "__fsan_memcpy" : "__fsan_memmove", Int8PtrTy, {Int8PtrTy, Int8PtrTy, IntptrTy}),
        {Dst, IRB.CreatePointerCast(MT->getRawSource(), Int8PtrTy), Len});
  } else {
    ++S.SkippedOtherMemIntrinsics;
    return false;
  }
  MI->eraseFromParent();
  ++S.InstrumentedMemIntrinsics;
  return true;
}

bool Instrumenter::sanitizeFunction(Function& F) {
  if (F.isDeclaration() || F.getName() == kModuleCtorName) return false;
  if (F.hasFnAttribute(Attribute::Naked) || F.hasFnAttribute(Attribute::DisableSanitizerInstrumentation)) {
    ++S.SkippedAttrFunctions;
    return false;
  }
  if (NoSanitize.count(&F)) {
    ++S.SkippedNoSanitizeFunctions;
    return false;
  }
  // The runtime's functions are not skipped whole: fsan-mark-runtime tagged
  // their own instructions, and whatever else they hold now was inlined from
  // user code (the lambda given to fsan::go inlined into the fiber trampoline)
  // and is instrumented. Unmarked (the marking pass did not run): skip whole.
  const bool IsClone = F.getName().endswith(kCloneSuffix);
  const bool IsRuntime = IsClone || F.hasFnAttribute(kRuntimeAttr) || isRuntimeName(F.getName());
  if (IsRuntime) {
    ++(IsClone ? S.SkippedRuntimeClones : S.SkippedRuntimeFunctions);
    if (!F.hasFnAttribute(kRuntimeAttr)) return false;
  }
  AllocaEscapes.clear();

  SmallVector<Instruction*, 16> Local;
  SmallVector<Access, 16> All;
  SmallVector<Instruction*, 8> Atomics;
  SmallVector<MemIntrinsic*, 8> MemIntrinsics;
  bool HasCalls = false;
  for (BasicBlock& BB : F) {
    for (Instruction& I : BB) {
      if (isAtomicAccess(I)) {
        if (!skipTagged(I)) Atomics.push_back(&I);
        chooseAccesses(Local, All);  // an atomic may synchronize
      } else if (isa<LoadInst>(I) || isa<StoreInst>(I)) {
        if (!skipTagged(I)) Local.push_back(&I);
      } else if (auto* MI = dyn_cast<MemIntrinsic>(&I)) {
        if (!skipTagged(I)) MemIntrinsics.push_back(MI);
      } else if (auto* CB = dyn_cast<CallBase>(&I); CB && !isa<IntrinsicInst>(CB)) {
        HasCalls = true;
        chooseAccesses(Local, All);  // a call may synchronize
      }
    }
    chooseAccesses(Local, All);
  }

  bool Res = false;
  for (const Access& A : All) Res |= instrumentLoadOrStore(A.I);
  for (Instruction* I : Atomics) Res |= instrumentAtomic(I);
  for (MemIntrinsic* MI : MemIntrinsics) {
    bool Replaced = instrumentMemIntrinsic(MI);
    Res |= Replaced;
    HasCalls |= Replaced;
  }

  // Entry/exit for the shadow call stack. A function with neither calls nor
  // instrumented accesses can never appear in an access stack; a runtime
  // function gets them only around user code inlined into it.
  if (!Res && (!HasCalls || IsRuntime)) {
    if (!IsRuntime) ++S.SkippedLeafFunctions;
    return false;
  }
  IRBuilder<> IRB(&*F.getEntryBlock().getFirstInsertionPt());
  ensureDebugLoc(IRB, F);
  Value* ReturnAddress = IRB.CreateCall(Intrinsic::getDeclaration(&M, Intrinsic::returnaddress), {IRB.getInt32(0)});
  IRB.CreateCall(hook(kFuncEntryName, VoidTy, {Int8PtrTy}), {ReturnAddress});
  // Every way out: each return, and (calls turned into invokes with a
  // cleanup landing pad) each exception unwinding through the function.
  EscapeEnumerator EE(F, "fsan_cleanup", /*HandleExceptions=*/true);
  while (IRBuilder<>* AtExit = EE.Next()) {
    // A musttail call must stay immediately before its return.
    BasicBlock* BB = AtExit->GetInsertBlock();
    if (CallInst* Tail = BB->getTerminatingMustTailCall()) AtExit->SetInsertPoint(Tail);
    ensureDebugLoc(*AtExit, F);
    AtExit->CreateCall(hook(kFuncExitName, VoidTy, {}), {});
  }
  ++S.InstrumentedFunctions;
  return true;
}

void Instrumenter::insertModuleCtor() {
  getOrCreateSanitizerCtorAndInitFunctions(M, kModuleCtorName, kInitName, /*InitArgTypes=*/{}, /*InitArgs=*/{},
                                           [&](Function* Ctor, FunctionCallee) { appendToGlobalCtors(M, Ctor, 0); });
}

PreservedAnalyses FsanPass::run(Module& M, ModuleAnalysisManager&) {
  if (ClPrintHooks) hookNames().print(outs());
  Stats S;
  Instrumenter Inst(M, S);
  // sanitizeFunction may add a personality routine; iterate over a snapshot.
  SmallVector<Function*, 32> Functions;
  for (Function& F : M) Functions.push_back(&F);
  for (Function* F : Functions) Inst.sanitizeFunction(*F);
  Inst.insertModuleCtor();
  if (ClStats) S.print(errs(), M.getSourceFileName());
  return PreservedAnalyses::none();
}

}  // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {
      LLVM_PLUGIN_API_VERSION, "FsanPass", LLVM_VERSION_STRING, [](PassBuilder& PB) {
        PB.registerPipelineStartEPCallback(
            [](ModulePassManager& MPM, OptimizationLevel) { MPM.addPass(FsanMarkRuntimePass()); });
        PB.registerOptimizerLastEPCallback([](ModulePassManager& MPM, OptimizationLevel) { MPM.addPass(FsanPass()); });
        // opt -load-pass-plugin=FsanPass.so -passes=fsan-mark-runtime,fsan
        PB.registerPipelineParsingCallback(
            [](StringRef Name, ModulePassManager& MPM, ArrayRef<PassBuilder::PipelineElement>) {
              if (Name == "fsan-mark-runtime") {
                MPM.addPass(FsanMarkRuntimePass());
                return true;
              }
              if (Name == "fsan") {
                MPM.addPass(FsanPass());
                return true;
              }
              return false;
            });
      }};
}
