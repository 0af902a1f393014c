"""EC2 instance types the node groups may launch, and what a node of each offers pods on the EKS-optimized AMI.

Sources (the numbers below are copied from them, not measured here):
- vCPUs and memory: aws.amazon.com/ec2/instance-types/ (Compute optimized c5/c5a/c6i, General purpose
  m5/m5a/m6i, Memory optimized r5/r6i; "Instance Size / vCPU / Memory (GiB)" tables).
- ENIs and IPv4 addresses per ENI: docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html.
- max pods with the VPC CNI (no prefix delegation): ENIs x (IPv4 per ENI - 1) + 2
  (docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html#determine-max-pods); the results equal
  awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt (c5.large 29, c5.xlarge 58, m5.4xlarge 234).
- kubelet reservations on the EKS AMIs: awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go
  (getMemoryMebibytesToReserve: 11 MiB x maxPods + 255 MiB; getCPUMillicoresToReserve: 6% of the first core,
  1% of the second, 0.5% of the third and fourth, 0.25% above four) and its default evictionHard
  memory.available 100Mi; no systemReserved.
- the node's memory capacity is below the nominal size (kernel and hypervisor): Karpenter's documented
  VM_MEMORY_OVERHEAD_PERCENT default of 7.5% (karpenter.sh/docs/reference/settings/).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 2**20
GiB = 2**30
VM_MEMORY_OVERHEAD = 0.075
EVICTION_HARD_MEMORY = 100 * MiB


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: int
    enis: int
    ipv4_per_eni: int

    @property
    def max_pods(self) -> int:
        return self.enis * (self.ipv4_per_eni - 1) + 2

    @property
    def kube_reserved_cpu(self) -> float:
        """Cores the AMI reserves for the kubelet and container runtime."""
        millicores = self.vcpus * 1000
        reserved = 0.0
        for start, end, fraction in (
            (0, 1000, 0.06),
            (1000, 2000, 0.01),
            (2000, 4000, 0.005),
            (4000, millicores, 0.0025),
        ):
            if millicores > start:
                reserved += (min(millicores, end) - start) * fraction
        return reserved / 1000

    @property
    def kube_reserved_memory(self) -> float:
        return (11 * self.max_pods + 255) * MiB

    @property
    def allocatable_cpu(self) -> float:
        return self.vcpus - self.kube_reserved_cpu

    @property
    def allocatable_memory(self) -> float:
        capacity = self.memory_gib * GiB * (1 - VM_MEMORY_OVERHEAD)
        return capacity - self.kube_reserved_memory - EVICTION_HARD_MEMORY


def _family(prefix: str, memory_per_vcpu: int) -> dict[str, InstanceType]:
    # Nitro sizes share ENI limits across these families: large 3 x 10, xlarge and 2xlarge 4 x 15,
    # 4xlarge 8 x 30 (AvailableIpPerENI tables).
    sizes = {"large": (2, 3, 10), "xlarge": (4, 4, 15), "2xlarge": (8, 4, 15), "4xlarge": (16, 8, 30)}
    return {
        f"{prefix}.{size}": InstanceType(f"{prefix}.{size}", vcpus, vcpus * memory_per_vcpu, enis, ips)
        for size, (vcpus, enis, ips) in sizes.items()
    }


INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family("c5", 2),
    **_family("c5a", 2),
    **_family("c6i", 2),
    **_family("m5", 4),
    **_family("m5a", 4),
    **_family("m6i", 4),
    **_family("r5", 8),
    **_family("r6i", 8),
}


def instance_type(name: str) -> InstanceType:
    if name not in INSTANCE_TYPES:
        raise AssertionError(
            f"instance type {name} is not in tests/deploy/system/instance_types.py: add it "
            "with its vCPUs, memory and ENI limits from the AWS pages cited there"
        )
    return INSTANCE_TYPES[name]
