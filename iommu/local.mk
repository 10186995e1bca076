# iommu
