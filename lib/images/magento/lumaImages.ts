import type { ViewXmlImage, ViewXmlTheme } from './viewXml.ts';

/**
 * Luma's effective product image sizes: Magento_Blank's view.xml with Magento_Luma's merged over it
 * (Luma re-declares every Blank id, changes 11 sizes and adds `category_page_grid-1`). Our own table of
 * the values in theme-frontend-luma/theme-frontend-blank etc/view.xml of Magento 2.4.8-p4 (identical
 * media sections in 2.4.1 and in Mage-OS's 2.4.8-era mirror). No entry sets frame, constrain,
 * aspect_ratio, transparency or background; `product_image_white_borders` is 1, so every one is framed.
 */
export const lumaImages: readonly ViewXmlImage[] = [
  { id: 'bundled_product_customization_page', type: 'thumbnail', width: 140, height: 140 },
  { id: 'cart_cross_sell_products', type: 'small_image', width: 240, height: 300 },
  { id: 'cart_page_product_thumbnail', type: 'small_image', width: 165, height: 165 },
  { id: 'category_page_grid', type: 'small_image', width: 240, height: 300 },
  { id: 'category_page_grid-1', type: 'small_image', width: 240, height: 300 },
  { id: 'category_page_list', type: 'small_image', width: 240, height: 300 },
  { id: 'customer_account_my_tags_tag_view', type: 'small_image', width: 100, height: 100 },
  { id: 'customer_account_product_review_page', type: 'image', width: 285, height: 285 },
  { id: 'customer_shared_wishlist', type: 'small_image', width: 113, height: 113 },
  { id: 'gift_messages_checkout_small_image', type: 'small_image', width: 75, height: 75 },
  { id: 'gift_messages_checkout_thumbnail', type: 'thumbnail', width: 100, height: 100 },
  { id: 'mini_cart_product_thumbnail', type: 'thumbnail', width: 150, height: 150 },
  { id: 'new_products_content_widget_grid', type: 'small_image', width: 240, height: 300 },
  { id: 'new_products_content_widget_list', type: 'small_image', width: 270, height: 340 },
  { id: 'new_products_images_only_widget', type: 'small_image', width: 78, height: 78 },
  { id: 'product_base_image', type: 'image', width: 265, height: 265 },
  { id: 'product_comparison_list', type: 'small_image', width: 140, height: 140 },
  { id: 'product_page_image_large', type: 'image' },
  { id: 'product_page_image_medium', type: 'image', width: 700, height: 700 },
  { id: 'product_page_image_small', type: 'thumbnail', width: 88, height: 110 },
  { id: 'product_page_main_image', type: 'image', width: 700, height: 560 },
  { id: 'product_page_main_image_default', type: 'image', width: 700, height: 560 },
  { id: 'product_page_more_views', type: 'thumbnail', width: 88, height: 110 },
  { id: 'product_small_image', type: 'small_image', width: 135, height: 135 },
  { id: 'product_stock_alert_email_product_image', type: 'small_image', width: 76, height: 76 },
  { id: 'product_swatch_image_large', type: 'image' },
  { id: 'product_swatch_image_medium', type: 'image', width: 240, height: 300 },
  { id: 'product_swatch_image_small', type: 'thumbnail', width: 88, height: 110 },
  { id: 'product_thumbnail_image', type: 'thumbnail', width: 75, height: 75 },
  { id: 'recently_compared_products_grid_content_widget', type: 'small_image', width: 240, height: 300 },
  { id: 'recently_compared_products_images_names_widget', type: 'thumbnail', width: 75, height: 90 },
  { id: 'recently_compared_products_images_only_widget', type: 'thumbnail', width: 76, height: 76 },
  { id: 'recently_compared_products_list_content_widget', type: 'small_image', width: 270, height: 340 },
  { id: 'recently_viewed_products_grid_content_widget', type: 'small_image', width: 240, height: 300 },
  { id: 'recently_viewed_products_images_names_widget', type: 'small_image', width: 75, height: 90 },
  { id: 'recently_viewed_products_images_only_widget', type: 'small_image', width: 76, height: 76 },
  { id: 'recently_viewed_products_list_content_widget', type: 'small_image', width: 270, height: 340 },
  { id: 'related_products_list', type: 'small_image', width: 152, height: 190 },
  { id: 'review_page_product_image', type: 'small_image', width: 285, height: 285 },
  { id: 'rss_thumbnail', type: 'thumbnail', width: 75, height: 75 },
  { id: 'sendfriend_small_image', type: 'small_image', width: 75, height: 75 },
  { id: 'shared_wishlist_email', type: 'small_image', width: 135, height: 135 },
  { id: 'side_column_widget_product_thumbnail', type: 'thumbnail', width: 75, height: 90 },
  { id: 'upsell_products_list', type: 'small_image', width: 152, height: 190 },
  { id: 'wishlist_sidebar_block', type: 'thumbnail', width: 75, height: 90 },
  { id: 'wishlist_small_image', type: 'small_image', width: 113, height: 113 },
  { id: 'wishlist_thumbnail', type: 'small_image', width: 240, height: 300 },
];

/** Luma as a {@link ViewXmlTheme}, ready for `buildCacheTable`. */
export const lumaTheme: ViewXmlTheme = {
  images: new Map(lumaImages.map((image) => [image.id, image])),
  productImageWhiteBorders: true,
};
