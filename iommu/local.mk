# iommu/ — IOMMU groups, viability, VFIO container / iommufd, DMA mapping
noinst_LIBRARIES += iommu/libiommu.a
iommu_libiommu_a_SOURCES = \
	iommu/groups.c iommu/groups.h
iommu_libiommu_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
LIBIOMMU_LIBS = iommu/libiommu.a
