# iommu/ — IOMMU groups, viability, VFIO container / iommufd, DMA mapping
noinst_LIBRARIES += iommu/libiommu.a
iommu_libiommu_a_SOURCES = \
	iommu/groups.c iommu/groups.h \
	iommu/passthrough.c iommu/passthrough.h \
	iommu/vfio.c iommu/vfio.h iommu/iommufd-uapi.h
iommu_libiommu_a_CPPFLAGS = $(IOMMU_CPPFLAGS)
iommu_libiommu_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
LIBIOMMU_LIBS = iommu/libiommu.a
